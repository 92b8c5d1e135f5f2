// Whether each critical file exists and can be read. I/O only.
//
// access(R_OK) rather than opening the file: opening a FIFO blocks until a writer appears,
// and a critical "file" that is a FIFO must not hang a scrape. Symlinks are followed: a
// config file is often a symlink into a release directory, and a dangling one is missing.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { describeError } from '../errors.js';

export interface FileCheck {
  path: string;
  present: boolean;
  /** Why it is not present (ENOENT, EACCES, "is a directory"), for the debug log. */
  reason?: string;
  /** Modification time (unix seconds) when present. */
  mtimeSeconds?: number;
}

export async function checkFile(file: string): Promise<FileCheck> {
  try {
    const st = await stat(file);
    // A directory where a file should be is a broken deployment, not an intact config.
    if (st.isDirectory()) return { path: file, present: false, reason: 'is a directory' };
    await access(file, constants.R_OK);
    return { path: file, present: true, mtimeSeconds: st.mtimeMs / 1000 };
  } catch (err) {
    return { path: file, present: false, reason: describeError(err) };
  }
}

export function checkFiles(files: readonly string[]): Promise<FileCheck[]> {
  return Promise.all(files.map(checkFile));
}
