// TIME_WAIT sockets to or from a local port, as the kernel lists them.
import { readFileSync } from 'node:fs';

export function timeWaitSockets(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/tcp', '/proc/net/tcp6']
    .flatMap((f) => readFileSync(f, 'latin1').split('\n').slice(1))
    .filter((row) => {
      const [, local, remote, state] = row.trim().split(/\s+/);
      return state === '06' && (local?.endsWith(hex) === true || remote?.endsWith(hex) === true);
    }).length;
}
