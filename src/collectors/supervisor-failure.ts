// Names the failure behind an error from the supervisor client. The client throws
// SupervisorError with its kind; an error without one (a client that predates it, an abort
// from the collector's deadline) is named from what the message says, and anything not
// recognised is "protocol": supervisord answered, but not as supervisord does.
import { SupervisorError, type SupervisorFailure } from '../sources/supervisor-error.js';

const BY_MESSAGE: ReadonlyArray<readonly [RegExp, SupervisorFailure]> = [
  [/HTTP 401|password_file/, 'auth'],
  [/EACCES|EPERM|permission denied/i, 'permission'],
  [/no answer within|timed out|aborted|ETIMEDOUT/, 'timeout'],
  [/ENOENT|ECONNREFUSED|ENOTSOCK|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/, 'unreachable'],
];

export function supervisorFailure(err: unknown): SupervisorFailure {
  if (err instanceof SupervisorError) return err.failure;
  const message = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` : String(err);
  for (const [re, failure] of BY_MESSAGE) if (re.test(message)) return failure;
  return 'protocol';
}
