// The contract for user errors: one line on stderr, naming what is wrong, never a stack trace.
import assert from 'node:assert/strict';

export function assertOneLineError(stderr: string, re: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  assert.match(lines[0] ?? '', /^hostaudit-exporter: error: /);
  assert.match(lines[0] ?? '', re);
  assert.doesNotMatch(stderr, /\bat .*\.(ts|js):\d+/, 'no stack trace');
}
