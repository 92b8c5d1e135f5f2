// Expands the `databases` globs (absolute, `*`, `?`, `[...]`, and `**` for any depth). Node 20
// has no fs.glob, and the matching needed is small: a few patterns under a data directory.
// `**` never descends through a symlink (a link out of the watched tree, or a loop, must not
// be followed) and names starting with "." match only a pattern that starts with "." too, as
// in the shell. Directories are read with names as bytes; a name is matched as displayName
// (byte-names.ts) shows it. Only regular files match; a database's -wal, -shm and -journal
// companions never do (they are measured with their database). I/O only.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { displayName } from './byte-names.js';

const COMPANION = /-(wal|shm|journal)$/;
const MAX_DEPTH = 64;

function hasMagic(seg: string): boolean {
  return /[*?[]/.test(seg);
}

/** One path segment's pattern as a RegExp (`*` and `?` never match "/"). */
export function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = seg.slice(i + 1, end);
      if (cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Whether an absolute path matches the glob (exported for unit tests). */
export function globMatches(pattern: string, file: string): boolean {
  const p = pattern.split('/').filter(Boolean);
  const f = file.split('/').filter(Boolean);
  const res = p.map((s) => (s === '**' ? undefined : segmentRegExp(s)));
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let out: boolean;
    if (i === p.length) out = j === f.length;
    else if (p[i] === '**') out = go(i + 1, j) || (j < f.length && !(f[j] as string).startsWith('.') && go(i, j + 1));
    else
      out =
        j < f.length &&
        (res[i] as RegExp).test(f[j] as string) &&
        (!(f[j] as string).startsWith('.') || (p[i] as string).startsWith('.')) &&
        go(i + 1, j + 1);
    memo.set(key, out);
    return out;
  };
  return go(0, 0);
}

/** A database the globs found: the label shown for it and the bytes of the path to read. */
export interface DatabaseFile {
  /** The `path` label: the matched path, non-UTF-8 bytes shown escaped (byte-names.ts). */
  path: string;
  /** The file to read: the matched path as bytes, or for a configured symlink its target. */
  file: Buffer;
}

/** Something about a configured path worth one log line (a symlink followed or refused). */
export type GlobNote = (msg: string, fields: Record<string, string>) => void;

/** Regular files matching any of the absolute globs, sorted, each once. */
export async function expandGlobs(patterns: readonly string[]): Promise<string[]> {
  return (await findDatabases(patterns)).map((d) => d.path);
}

/**
 * Regular files matching any of the absolute globs, sorted by label, each once. Directories
 * are read with names as bytes, so a name that is not UTF-8 is found (and shown escaped).
 * A pattern without wildcards that names a symlink is the user's own choice of file: its
 * target is read when it is a regular file (SQLite itself opens the target, with the -wal
 * and -shm beside it), under the path as written, and `note` says so once per expansion;
 * a dangling link or one to something else is noted and skipped.
 */
export async function findDatabases(patterns: readonly string[], note?: GlobNote): Promise<DatabaseFile[]> {
  const out = new Map<string, DatabaseFile>();
  const add = (file: Buffer, target = file): void => {
    const label = displayName(file);
    if (!out.has(label)) out.set(label, { path: label, file: target });
  };
  for (const pattern of patterns) {
    const segs = pattern.split('/').filter(Boolean);
    const first = segs.findIndex(hasMagic);
    if (first < 0) {
      const literal = path.resolve(pattern);
      if (COMPANION.test(literal)) continue;
      const st = await lstat(literal).catch(() => undefined);
      if (st?.isFile()) add(Buffer.from(literal));
      else if (st?.isSymbolicLink()) {
        const target = await realpath(literal, { encoding: 'buffer' }).catch(() => undefined);
        const tst = target ? await stat(target).catch(() => undefined) : undefined;
        if (target && tst?.isFile()) {
          note?.('database path is a symlink; reading its target', { path: literal, target: displayName(target) });
          add(Buffer.from(literal), target);
        } else {
          note?.('database path is a symlink to no regular file; not read', { path: literal });
        }
      }
      continue;
    }
    const base = Buffer.from('/' + segs.slice(0, first).join('/'));
    await walk(base, segs.slice(first), 0, (f) => add(f));
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function join(dir: Buffer, name: Buffer): Buffer {
  return dir[dir.length - 1] === 0x2f ? Buffer.concat([dir, name]) : Buffer.concat([dir, SLASH, name]);
}
const SLASH = Buffer.from('/');

async function walk(dir: Buffer, rest: string[], depth: number, found: (f: Buffer) => void): Promise<void> {
  if (depth > MAX_DEPTH || rest.length === 0) return;
  const [seg, ...tail] = rest as [string, ...string[]];
  if (seg === '**') {
    await walk(dir, tail, depth + 1, found); // zero directories
  }
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch {
    return; // missing or unreadable: nothing matches here
  }
  if (seg === '**') {
    for (const e of entries) {
      if (e.isDirectory() && e.name[0] !== 0x2e) await walk(join(dir, e.name), rest, depth + 1, found);
    }
    return;
  }
  const re = hasMagic(seg) ? segmentRegExp(seg) : undefined;
  for (const e of entries) {
    const name = displayName(e.name);
    if (re ? !re.test(name) : name !== seg) continue;
    if (re && name.startsWith('.') && !seg.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (tail.length === 0) {
      if (e.isFile() && !COMPANION.test(name)) found(full);
    } else if (e.isDirectory()) {
      await walk(full, tail, depth + 1, found);
    }
  }
}
