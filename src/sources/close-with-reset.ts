// Ending a finished HTTP exchange over TCP with a reset instead of a FIN.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/**
 * Ends a TCP connection whose answer has fully arrived with a reset instead of a FIN. A
 * FIN-closed connection stays in TIME_WAIT for 60 s on the host (on the server's side: it
 * closes first after `Connection: close`): one socket per probe or supervisord call, in the
 * host's TCP table, which hostaudit_host_tcp_connections reports and the exporter reads on
 * every scrape. At the bench's 20 scrapes a second that was 400–800 sockets of the
 * exporter's own making.
 * kubelet closes its HTTP and TCP probes the same way (SO_LINGER), for the same reason.
 *
 * Call it from a prepended 'end' listener of the response, before node:http's own listener
 * ends the socket with a FIN. The server has sent its whole answer, so nothing it wrote is
 * lost; the Node, Python and supervisord servers tested see no error. Unix sockets have no
 * TIME_WAIT, and a TLS socket cannot be reset from Node (it is not a plain TCP handle): both
 * close normally.
 */
export function closeWithReset(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed || socket instanceof TLSSocket || socket.remoteFamily === undefined) return;
  try {
    socket.resetAndDestroy();
  } catch {
    // Already shutting down (node:http answered the server's FIN first): the ordinary close goes on.
  }
}
