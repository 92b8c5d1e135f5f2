// Sizes of a supervisor log file and its rotated backups (FILE.1 … FILE.N), as supervisor's
// RotatingFileHandler names them. I/O only.
import { lstat } from 'node:fs/promises';

/** Supervisor numbers backups contiguously from 1; stop at the first gap, and never loop forever. */
const MAX_BACKUPS = 1000;

/**
 * Bytes of `file` plus its backups, or undefined when the file is not a regular file
 * (never created yet, /dev/stdout, a syslog target…). Symlinks are not followed.
 */
export async function logFileBytes(file: string): Promise<number | undefined> {
  if (!file || !file.startsWith('/')) return undefined;
  let total: number;
  try {
    const st = await lstat(file);
    if (!st.isFile()) return undefined;
    total = st.size;
  } catch {
    return undefined;
  }
  for (let i = 1; i <= MAX_BACKUPS; i++) {
    try {
      const st = await lstat(`${file}.${i}`);
      if (!st.isFile()) break;
      total += st.size;
    } catch {
      break;
    }
  }
  return total;
}
