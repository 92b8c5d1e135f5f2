// A tcp:// probe: success when a TCP connection to HOST:PORT opens within the timeout. I/O
// only; never throws. The connection is reset, not closed, once open (close-with-reset.ts:
// no TIME_WAIT left on the host per probe).
import net from 'node:net';
import { describeError } from '../errors.js';
import { closeWithReset } from './close-with-reset.js';

export interface TcpProbeResult {
  success: boolean;
  durationSeconds: number;
  reason: string;
}

export function tcpProbe(url: URL, timeoutMs: number, signal?: AbortSignal): Promise<TcpProbeResult> {
  const t0 = process.hrtime.bigint();
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port);
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host, port });
    const done = (success: boolean, reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (success) closeWithReset(socket);
      else socket.destroy();
      resolve({ success, durationSeconds: Number(process.hrtime.bigint() - t0) / 1e9, reason });
    };
    const onAbort = (): void => done(false, `${host}:${port}: aborted`);
    const timer = setTimeout(() => done(false, `${host}:${port}: no connection within ${timeoutMs}ms`), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    socket.once('connect', () => done(true, `${host}:${port}: connected`));
    socket.once('error', (err) => done(false, `${host}:${port}: ${describeError(err)}`));
  });
}
