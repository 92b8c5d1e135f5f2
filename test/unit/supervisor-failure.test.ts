// Which failure an error from the supervisor client is: its own kind when it carries one,
// else what the client's messages say.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { supervisorFailure } from '../../src/collectors/supervisor-failure.js';
import { SourceError } from '../../src/errors.js';
import { SupervisorError } from '../../src/sources/supervisor-error.js';

describe('supervisor failure kind', () => {
  it('takes the kind a SupervisorError carries, whatever its message', () => {
    assert.equal(supervisorFailure(new SupervisorError('timeout', 'HTTP 401')), 'timeout');
  });

  it("names the client's errors from their messages", () => {
    const cases: Array<[string, string]> = [
      ['unix:///run/s.sock: authentication failed (HTTP 401)', 'auth'],
      ['cannot read password_file: ENOENT: no such file', 'auth'],
      ['unix:///run/s.sock: EACCES: connect EACCES /run/s.sock', 'permission'],
      ['unix:///run/s.sock: ENOENT: connect ENOENT /run/s.sock; unix:///tmp/s.sock: ECONNREFUSED: connect ECONNREFUSED', 'unreachable'],
      ['http://127.0.0.1:9001/RPC2: no answer within 5000ms', 'timeout'],
      ['http://127.0.0.1:9001/RPC2: HTTP 404', 'protocol'],
      ['malformed XML-RPC response: no <methodResponse>', 'protocol'],
    ];
    for (const [message, kind] of cases) assert.equal(supervisorFailure(new SourceError('supervisor', message)), kind, message);
    assert.equal(supervisorFailure(new Error('timed out after 8000ms')), 'timeout');
  });
});
