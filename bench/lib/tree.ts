// The benchmarks' directory trees, built the same way for every bench that walks or watches one.
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * Builds a tree of `n` entries below `root`: root/aNN/bNN/ leaf directories of 100 names each,
 * 1 in 50 a hardlink to a file of the same directory, 1 in 50 a symlink, the rest regular
 * files with sizes 0–8 KB made with ftruncate (sparse: apparent size is what du -sb counts,
 * and nothing has to be written). Built by two processes in parallel, one per half.
 */
export async function build(root: string, n: number): Promise<number> {
  const t0 = performance.now();
  mkdirSync(root, { recursive: true });
  const leaves = Math.ceil(n / 100);
  const half = Math.ceil(leaves / 2);
  const script = `
    const fs = require('fs');
    const root = process.argv[1], from = +process.argv[2], to = +process.argv[3], n = +process.argv[4];
    for (let leaf = from; leaf < to; leaf++) {
      const dir = root + '/a' + Math.floor(leaf / 100) + '/b' + (leaf % 100);
      fs.mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 100 && leaf * 100 + i < n; i++) {
        const p = dir + '/f' + i + '.log';
        if (i % 50 === 17) fs.linkSync(dir + '/f0.log', p);
        else if (i % 50 === 33) fs.symlinkSync('f1.log', p);
        else { const fd = fs.openSync(p, 'w'); const size = ((leaf * 100 + i) * 7919) % 8192; if (size) fs.ftruncateSync(fd, size); fs.closeSync(fd); }
      }
    }`;
  await Promise.all(
    [
      [0, half],
      [half, leaves],
    ].map(
      ([a, b]) =>
        new Promise<void>((resolve, reject) => {
          const c = spawn(process.execPath, ['-e', script, root, String(a), String(b), String(n)], { stdio: 'inherit' });
          c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tree builder exited with ${code}`))));
        }),
    ),
  );
  // A hardlink across two leaves, a symlink loop and a dangling link at the top.
  linkSync(path.join(root, 'a0', 'b0', 'f0.log'), path.join(root, 'cross-link.log'));
  symlinkSync('loop-b', path.join(root, 'loop-a'));
  symlinkSync('loop-a', path.join(root, 'loop-b'));
  symlinkSync('/nonexistent/x', path.join(root, 'dangling'));
  return performance.now() - t0;
}

