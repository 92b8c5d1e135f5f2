// The exporter's Node flags are written once, in its entry point's shebang (which the
// installed bin runs); `npm start` and the Docker image must start it with the same ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { exporterNodeFlags } from '../../bench/lib/measure.js';
import { ROOT } from '../helpers/exporter.js';

describe('Node flags of the exporter', () => {
  const flags = exporterNodeFlags(path.join(ROOT, 'src', 'main.ts'));

  it('are set in the shebang', () => {
    assert.ok(flags.some((f) => f.startsWith('--max-semi-space-size=')), flags.join(' '));
  });

  it('are the same for npm start and the Docker image', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, ['node', ...flags, 'dist/main.js'].join(' '));
    const entry = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    assert.deepEqual(JSON.parse(entry ?? '[]'), ['node', ...flags, 'dist/main.js']);
  });
});
