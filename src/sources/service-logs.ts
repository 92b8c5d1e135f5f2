// Sizes of a supervisor log file and its rotated backups (FILE.1 … FILE.N), as supervisor's
// RotatingFileHandler names them. I/O only.
//
// Synchronous lstat on purpose: one stat of local metadata costs microseconds, while the
// async form costs a thread-pool round trip and, for every missing FILE.N that ends the
// series, an Error object. With 500 supervised processes (1000 log files) the async version
// was the largest single cost of a scrape; see docs/performance.md, "Scrape cost and scale".
import { lstatSync, type Stats } from 'node:fs';

/** Supervisor numbers backups contiguously from 1; stop at the first gap, and never loop forever. */
const MAX_BACKUPS = 1000;

/** lstat of a log file: its Stats when it is a regular file (symlinks not followed), else undefined. */
export function liveLogStat(file: string): Stats | undefined {
  if (!file || !file.startsWith('/')) return undefined;
  try {
    const st = lstatSync(file, { throwIfNoEntry: false });
    return st && st.isFile() ? st : undefined;
  } catch {
    return undefined; // EACCES, ENOTDIR…
  }
}

/**
 * `liveSize` (of `file` itself, from liveLogStat: the caller shares that one lstat with the
 * log's mtime) plus the sizes of its backups; undefined when the live file is not a regular file.
 */
export function withBackups(file: string, liveSize: number | undefined): number | undefined {
  if (liveSize === undefined) return undefined;
  let total = liveSize;
  for (let i = 1; i <= MAX_BACKUPS; i++) {
    const size = liveLogStat(`${file}.${i}`)?.size;
    if (size === undefined) break;
    total += size;
  }
  return total;
}
