// Temporary directories that tests clean up.
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { readdirSync, lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function makeTmpDir(prefix = 'hostaudit-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a tree, first restoring permissions a test may have taken away. */
export function removeTmpDir(dir: string): void {
  const fix = (p: string): void => {
    try {
      const st = lstatSync(p);
      if (st.isDirectory()) {
        chmodSync(p, 0o755);
        for (const e of readdirSync(p)) fix(path.join(p, e));
      }
    } catch {
      // already gone
    }
  };
  fix(dir);
  rmSync(dir, { recursive: true, force: true });
}
