// How the exporter is started (environment and Node flags) is written once, in its entry
// point's shebang (which the installed bin runs); `npm start` and the Docker image must start
// it the same way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { exporterLaunch, launchLine } from '../../bench/lib/measure.js';
import { ROOT } from '../helpers/exporter.js';

describe('how the exporter is started', () => {
  const launch = exporterLaunch(path.join(ROOT, 'src', 'main.ts'));

  it('is set in the shebang', () => {
    for (const f of ['--max-semi-space-size=', '--heap-growing-percent=']) {
      assert.ok(launch.nodeFlags.some((x) => x.startsWith(f)), `${f} in ${launch.nodeFlags.join(' ')}`);
    }
    assert.equal(launch.env.MALLOC_ARENA_MAX, '2');
  });

  it('is the same for npm start and the Docker image', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // `exec`: the shell npm runs the script in becomes node, so npm's SIGTERM reaches the exporter.
    assert.equal(pkg.scripts.start, launchLine(launch, 'dist/main.js').replace(/(^| )node /, '$1exec node '));
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    assert.deepEqual(JSON.parse(entry ?? '[]'), ['node', ...launch.nodeFlags, 'dist/main.js']);
    for (const [k, v] of Object.entries(launch.env)) assert.match(dockerfile, new RegExp(`^ENV ${k}=${v}$`, 'm'));
  });
});
