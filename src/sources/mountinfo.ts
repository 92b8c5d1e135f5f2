// Parses /proc/PID/mountinfo (proc(5)): one mount per line, "36 35 98:0 /mnt1 /mnt/parent
// rw,noatime master:1 - ext3 /dev/root rw,errors=continue". Pure; bounded: at most MAX_LINES
// lines of at most MAX_LINE characters are looked at (a host has hundreds of mounts).

export const MAX_LINES = 100_000;
export const MAX_LINE = 16 * 1024;

export interface Mount {
  /** "major:minor" of the filesystem's device, as stat's st_dev names it. */
  dev: string;
  mountpoint: string;
  fstype: string;
  /** The mount source: /dev/vda1, tmpfs, overlay, server:/export. */
  device: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescape(s: string): string {
  return s.includes('\\') ? s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))) : s;
}

export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  let start = 0;
  for (let n = 0; n < MAX_LINES && start < text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = end - start > MAX_LINE ? '' : text.slice(start, end);
    start = end + 1;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || sep + 2 >= f.length) continue;
    const dev = f[2] as string;
    if (!/^\d{1,10}:\d{1,10}$/.test(dev)) continue;
    const mountpoint = unescape(f[4] as string);
    if (!mountpoint.startsWith('/')) continue;
    out.push({ dev, mountpoint, fstype: unescape(f[sep + 1] as string), device: unescape(f[sep + 2] as string) });
  }
  return out;
}

/** st_dev → "major:minor" as the kernel's new_encode_dev packs them (glibc's gnu_dev_major/minor). */
export function devName(dev: number): string {
  const big = BigInt(dev);
  const major = Number(((big & 0xfff00n) >> 8n) | ((big & 0xfffff00000000000n) >> 32n));
  const minor = Number((big & 0xffn) | ((big & 0xffffff00000n) >> 12n));
  return `${major}:${minor}`;
}

/**
 * The mount holding `file` (an absolute, symlink-free path) on device `dev`: of the mounts of
 * that device, the one whose mountpoint is the longest prefix of the path; when none is (the
 * mount table is another namespace's), the first of that device.
 */
export function mountOf(mounts: readonly Mount[], dev: string, file: string): Mount | undefined {
  let best: Mount | undefined;
  let first: Mount | undefined;
  for (const m of mounts) {
    if (m.dev !== dev) continue;
    first ??= m;
    const prefix = m.mountpoint === '/' || file === m.mountpoint || file.startsWith(m.mountpoint + '/');
    if (prefix && (!best || m.mountpoint.length >= best.mountpoint.length)) best = m;
  }
  return best ?? first;
}
