// The supervisor collector's last failure, read without importing it: any collector that
// keeps `lastFailure` in that shape (src/collectors/supervisor.ts does) can name it.
import type { Collector } from '../collectors/collector.js';
import type { SupervisorFailure } from '../sources/supervisor-error.js';

type Failure = { failure: SupervisorFailure; error: string };

export function supervisorFailureOf(c: Collector): Failure | undefined {
  const f = (c as { lastFailure?: unknown }).lastFailure;
  if (f === null || typeof f !== 'object') return undefined;
  const { failure, error } = f as Partial<Failure>;
  return typeof failure === 'string' && typeof error === 'string' ? { failure, error } : undefined;
}
