// Directory-relative file access, as du's fts does with openat and fstatat. Node has neither,
// so an entry is addressed as /proc/self/fd/FD/NAME: the kernel resolves NAME inside the open
// directory FD, whatever its depth (no PATH_MAX) and whatever was renamed above it, and a
// single component is never followed when it is a symlink. Names are bytes: a name that is not
// valid UTF-8 is kept as a Buffer, every other one as a string (cheaper to pass to fs).
import { closeSync, fstatSync, lstatSync, openSync, opendirSync, readdirSync, readlinkSync, constants, type Dir, type Stats } from 'node:fs';

/** A directory entry's name: a string when it is valid UTF-8, else its bytes. */
export type EntryName = string | Buffer;

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const NO_THROW = { throwIfNoEntry: false } as const;
/** Longest relative path handed to the kernel in one open (PATH_MAX is 4096 with its NUL). */
const MAX_RELATIVE = 3072;

/**
 * /proc/PID/fd rather than /proc/self/fd: the kernel then skips resolving the "self" link on
 * every lookup (6 % less CPU per walk). /proc/self where /proc is another PID namespace's.
 */
const FD_DIR = ownFdDir();

function ownFdDir(): string {
  try {
    if (readlinkSync('/proc/self') === String(process.pid)) return `/proc/${process.pid}/fd`;
  } catch (err) {
    if (!(err as NodeJS.ErrnoException).code) throw err;
  }
  return '/proc/self/fd';
}

/** The path that names the open directory itself. */
export function fdPath(fd: number): string {
  return `${FD_DIR}/${fd}`;
}

/** The path of entry `name` inside the open directory `fd`. */
export function entryPath(fd: number, name: EntryName): string | Buffer {
  return typeof name === 'string' ? `${FD_DIR}/${fd}/${name}` : Buffer.concat([Buffer.from(`${FD_DIR}/${fd}/`), name]);
}

/** lstat of one entry of an open directory; undefined when it is gone. Throws EACCES and the like. */
export function lstatAt(fd: number, name: EntryName): Stats | undefined {
  return lstatSync(entryPath(fd, name), NO_THROW);
}

/** Opens a directory by path, never through a symlink as its last component. */
export function openDirectory(path: string | Buffer): number {
  return openSync(path, DIR_FLAGS);
}

/** Opens subdirectory `name` of the open directory `fd` (ENOTDIR or ELOOP when it is no longer a directory). */
export function openAt(fd: number, name: EntryName): number {
  return openSync(entryPath(fd, name), DIR_FLAGS);
}

/** dev:ino of an open file, the key the walk tells directories apart by. */
export function fdKey(fd: number): string {
  const st = fstatSync(fd);
  return `${st.dev}:${st.ino}`;
}

/**
 * Opens the directory reached from `fd` through `names` (each a subdirectory of the one
 * before), in pieces that stay under PATH_MAX, and checks it is the directory `key` was taken
 * from: a component swapped for a symlink on the way cannot lead the walk elsewhere.
 */
export function openBelow(fd: number, names: readonly EntryName[], key: string): number {
  let base = fd;
  let i = 0;
  try {
    while (i < names.length) {
      const parts: Buffer[] = [];
      let len = 0;
      do {
        const n = names[i] as EntryName;
        const b = typeof n === 'string' ? Buffer.from(n) : n;
        parts.push(b);
        len += b.length + 1;
        i++;
      } while (i < names.length && len + Buffer.byteLength(names[i] as EntryName) < MAX_RELATIVE);
      const rel = Buffer.concat(parts.flatMap((p, j) => (j === 0 ? [p] : [Buffer.from('/'), p])));
      const next = openSync(Buffer.concat([Buffer.from(`${FD_DIR}/${base}/`), rel]), DIR_FLAGS);
      if (base !== fd) closeSync(base);
      base = next;
    }
  } catch (err) {
    if (base !== fd) closeSync(base);
    throw err;
  }
  if (base === fd) throw new Error('openBelow: no names');
  if (fdKey(base) !== key) {
    closeSync(base);
    throw Object.assign(new Error('directory changed while walked'), { code: 'ESTALE' });
  }
  return base;
}

/**
 * The names of an open directory, one at a time: first as strings (cheap to pass to fs), then,
 * if any name was not valid UTF-8 (it shows U+FFFD as a string), those names again as bytes.
 * `streamed` lists a few entries per call (a directory of a million names never sits in one
 * array, nor blocks the event loop in one call); otherwise each pass is one readdir.
 */
export class Listing {
  private dir: Dir | undefined;
  private names: Array<string | Buffer> | undefined;
  private next = 0;
  private raw = false;
  private bad = 0;

  constructor(
    private readonly fd: number,
    private readonly streamed: boolean,
  ) {
    this.open();
  }

  private open(): void {
    const path = fdPath(this.fd);
    const enc = this.raw ? { encoding: 'buffer' as BufferEncoding } : {};
    if (this.streamed) this.dir = opendirSync(path, { bufferSize: 128, ...enc });
    else {
      this.names = readdirSync(path, enc);
      this.next = 0;
    }
  }

  /** The next name, undefined for one to skip (read in the other pass), null at the end. */
  read(): EntryName | undefined | null {
    const n = this.dir ? (this.dir.readSync()?.name as string | Buffer | undefined) : this.names?.[this.next++];
    if (n === undefined) {
      if (this.raw || this.bad === 0) return null;
      this.close();
      this.raw = true;
      this.open();
      return undefined;
    }
    if (typeof n === 'string') {
      if (!needsBytes(n)) return n;
      this.bad++;
      return undefined;
    }
    return needsBytes(n.toString('utf8')) ? n : undefined;
  }

  close(): void {
    this.names = undefined;
    const d = this.dir;
    this.dir = undefined;
    try {
      d?.closeSync();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_DIR_CLOSED') throw err;
    }
  }
}

/** Whether a name listed as a string lost bytes to U+FFFD (not valid UTF-8, or a real U+FFFD). */
export function needsBytes(name: string): boolean {
  return name.includes('\ufffd');
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EBADF') throw err; // already closed: nothing to release
  }
}
