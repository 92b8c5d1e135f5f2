// Why supervisord could not be read, as a person would name it: the log, the audit report and
// its remediation say which of these it was.
import { SourceError } from '../errors.js';

export type SupervisorFailure = 'unreachable' | 'auth' | 'permission' | 'timeout' | 'protocol';

export const FAILURE_TEXT: Readonly<Record<SupervisorFailure, string>> = {
  unreachable: 'supervisord is not reachable (no socket or nothing listening)',
  auth: 'supervisord refused the credentials (HTTP 401)',
  permission: "the exporter's user may not open supervisord's socket (permission denied)",
  timeout: 'supervisord did not answer within supervisor.timeout',
  protocol: 'supervisord answered something that is not XML-RPC',
};

export class SupervisorError extends SourceError {
  constructor(
    readonly failure: SupervisorFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('supervisor', message, options);
    this.name = 'SupervisorError';
  }
}
