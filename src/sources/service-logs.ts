// Sizes of a supervisor log file and its rotated backups (FILE.1 … FILE.N), as supervisor's
// RotatingFileHandler names them. I/O only.
//
// Synchronous lstat on purpose: one stat of local metadata costs microseconds, while the
// async form costs a thread-pool round trip and, for every missing FILE.N that ends the
// series, an Error object. With 500 supervised processes (1000 log files) the async version
// was the largest single cost of a scrape; see docs/performance.md, "Scrape cost and scale".
import { lstatSync } from 'node:fs';

/** Supervisor numbers backups contiguously from 1; stop at the first gap, and never loop forever. */
const MAX_BACKUPS = 1000;

function regularFileSize(file: string): number | undefined {
  try {
    const st = lstatSync(file, { throwIfNoEntry: false });
    return st && st.isFile() ? st.size : undefined;
  } catch {
    return undefined; // EACCES, ENOTDIR…
  }
}

/**
 * Bytes of `file` plus its backups, or undefined when the file is not a regular file
 * (never created yet, /dev/stdout, a syslog target…). Symlinks are not followed.
 */
export async function logFileBytes(file: string): Promise<number | undefined> {
  return logFileBytesSync(file);
}

export function logFileBytesSync(file: string): number | undefined {
  if (!file || !file.startsWith('/')) return undefined;
  let total = regularFileSize(file);
  if (total === undefined) return undefined;
  for (let i = 1; i <= MAX_BACKUPS; i++) {
    const size = regularFileSize(`${file}.${i}`);
    if (size === undefined) break;
    total += size;
  }
  return total;
}
