// When a SQLite database was last written: the newest mtime of its main file and its -wal. In
// WAL mode a commit appends to the -wal and leaves the main file alone until a checkpoint, so
// the main file's mtime alone would call a busy database stale. I/O only (two lstats).
import { lstatSync } from 'node:fs';
import { globMatches } from './sqlite-glob.js';
import type { DatabaseEntry } from '../config-expectations.js';

/** Unix seconds, or undefined when the main file is not a regular file any more. */
export function lastWriteSeconds(file: string): number | undefined {
  let newest: number | undefined;
  for (const f of [file, `${file}-wal`]) {
    let st;
    try {
      st = lstatSync(f, { throwIfNoEntry: false });
    } catch {
      st = undefined; // EACCES: the other file still says something
    }
    if (f === file && !st?.isFile()) return undefined;
    if (st?.isFile()) newest = Math.max(newest ?? 0, st.mtimeMs);
  }
  return newest === undefined ? undefined : newest / 1000;
}

/** The tightest expect_write_within (ms) of the entries whose glob matches `file`. */
export function expectedWriteWithin(entries: readonly DatabaseEntry[], file: string): number | undefined {
  let best: number | undefined;
  for (const e of entries) {
    if (e.expectWriteWithinMs === undefined || !globMatches(e.glob, file)) continue;
    best = Math.min(best ?? Infinity, e.expectWriteWithinMs);
  }
  return best;
}
