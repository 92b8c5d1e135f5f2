// Expands the `databases` globs (absolute, `*`, `?`, `[...]`, and `**` for any depth). Node 20
// has no fs.glob, and the matching needed is small: a few patterns under a data directory.
// `**` never descends through a symlink (a link out of the watched tree, or a loop, must not
// be followed) and names starting with "." match only a pattern that starts with "." too, as
// in the shell. Only regular files match; a database's -wal, -shm and -journal companions
// never do (they are measured with their database). I/O only.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

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

/** Regular files matching any of the absolute globs, sorted, each once. */
export async function expandGlobs(patterns: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const segs = pattern.split('/').filter(Boolean);
    const first = segs.findIndex(hasMagic);
    if (first < 0) {
      // No wildcard: the file itself, when it is a regular file (a symlink given literally is
      // the user's choice, so stat follows it).
      const st = await stat(pattern).catch(() => undefined);
      if (st?.isFile() && !COMPANION.test(pattern)) out.add(path.resolve(pattern));
      continue;
    }
    const base = '/' + segs.slice(0, first).join('/');
    await walk(base, segs.slice(first), 0, out);
  }
  return [...out].sort();
}

async function walk(dir: string, rest: string[], depth: number, out: Set<string>): Promise<void> {
  if (depth > MAX_DEPTH || rest.length === 0) return;
  const [seg, ...tail] = rest as [string, ...string[]];
  if (seg === '**') {
    await walk(dir, tail, depth + 1, out); // zero directories
  }
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // missing or unreadable: nothing matches here
  }
  if (seg === '**') {
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.')) await walk(path.join(dir, e.name), rest, depth + 1, out);
    }
    return;
  }
  const re = hasMagic(seg) ? segmentRegExp(seg) : undefined;
  for (const e of entries) {
    if (re ? !re.test(e.name) : e.name !== seg) continue;
    if (re && e.name.startsWith('.') && !seg.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (tail.length === 0) {
      if (e.isFile() && !COMPANION.test(e.name)) out.add(full);
    } else if (e.isDirectory()) {
      await walk(full, tail, depth + 1, out);
    }
  }
}
