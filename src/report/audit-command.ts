// Placeholder until the audit report lands (issue 5): a clear error, not a crash.
import type { AuditOptions } from '../cli.js';
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log.js';

export async function runAuditCommand(_opts: AuditOptions, _config: Config, _log: Logger): Promise<number> {
  throw new UsageError('audit: not available in this build yet');
}
