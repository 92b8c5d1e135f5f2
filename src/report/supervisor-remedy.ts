// What to do when supervisord could not be read, by the kind of failure: a wrong password is
// not a stopped daemon, and the report must not send the reader to the wrong place.
import type { SupervisorFailure } from '../sources/supervisor-error.js';

export function supervisorRemedy(failure: SupervisorFailure | null, url: string): string {
  switch (failure) {
    case 'auth':
      return `supervisord at ${url} refused the exporter's credentials: check supervisor.username and supervisor.password_file (or HOSTAUDIT_SUPERVISOR_PASSWORD) against the username/password of supervisord's [unix_http_server] or [inet_http_server] section.`;
    case 'permission':
      return `The exporter's user may not open ${url}: give the socket a group the exporter is in (chown and chmod in [unix_http_server], e.g. chmod=0770, chown=root:hostaudit), or run the exporter as a member of the socket's group.`;
    case 'timeout':
      return `supervisord at ${url} accepted the connection but did not answer within supervisor.timeout: it is busy or blocked (look at its CPU and its log); raise supervisor.timeout only if it is merely slow.`;
    case 'protocol':
      return `${url} answered, but not with supervisord's XML-RPC: check that supervisor.url points at supervisord's RPC endpoint (http://HOST:PORT/RPC2 of [inet_http_server], or the file of [unix_http_server]) and not at another server.`;
    case 'unreachable':
    default:
      return `Nothing answers at ${url}: check that supervisord is running (systemctl status supervisor, or supervisorctl status) and that supervisor.url names its socket or address.`;
  }
}
