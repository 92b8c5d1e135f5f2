// One HTTP POST to supervisord that settles within its timeout whatever the peer does: an
// answer, a refusal, a 101 or endless 1xx, silence, a trickle, an endless or oversized body.
// Every way it can fail is named as a SupervisorFailure.
import type http from 'node:http';
import type https from 'node:https';
import { describeError } from '../errors.js';
import { closeWithReset } from './close-with-reset.js';
import { SupervisorError, type SupervisorFailure } from './supervisor-error.js';

/**
 * The largest answer read: 5,000 processes' getAllProcessInfo is some 5 MB, and the decoder
 * takes no more than 250,000 values (some 16,000 processes) anyway. An answer is held about
 * three times while read (chunks, their concatenation, the text), so this bounds memory too.
 */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Connection errors by what they mean to a person; anything else is a peer not speaking XML-RPC. */
const FAILURE_BY_CODE: Readonly<Record<string, SupervisorFailure>> = {
  ENOENT: 'unreachable',
  ECONNREFUSED: 'unreachable',
  ENOTSOCK: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EACCES: 'permission',
  EPERM: 'permission',
};

/**
 * POSTs `body` and resolves with the answer's text, or rejects with a SupervisorError. The
 * timer is our own rather than the request's signal alone: node:http stops listening to the
 * signal once a response has begun (or a 101 has taken the socket over), which is how a 101
 * answer used to leave the call unsettled for good.
 */
export function exchange(
  mod: typeof http | typeof https,
  options: http.RequestOptions,
  body: string,
  where: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let done = false;
    const finish = (err: SupervisorError | undefined, text?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else {
        resolve(text as string);
      }
    };
    const fail = (failure: SupervisorFailure, why: string, cause?: unknown): void =>
      finish(new SupervisorError(failure, `${where}: ${why}`, cause === undefined ? undefined : { cause }));
    const onAbort = (): void => fail('timeout', 'aborted (collector deadline or shutdown)');
    const timer = setTimeout(() => fail('timeout', `no answer within ${timeoutMs}ms`), timeoutMs);
    timer.unref();

    let answer: http.IncomingMessage | undefined;
    const req = mod.request({ ...options, agent: false }, (res) => {
      answer = res;
      // Over TCP, no TIME_WAIT left per call on the host (close-with-reset.ts).
      res.prependListener('end', () => closeWithReset(res.socket));
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.destroy();
        if (status === 401) fail('auth', 'authentication failed (HTTP 401)');
        else fail('protocol', `HTTP ${status}`);
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (declared > MAX_RESPONSE_BYTES) {
        fail('protocol', `answer of ${declared} bytes, more than ${MAX_RESPONSE_BYTES}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          fail('protocol', `answer longer than ${MAX_RESPONSE_BYTES} bytes`);
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(undefined, Buffer.concat(chunks).toString('utf8')));
      res.on('error', (err) => fail('protocol', `answer cut short: ${describeError(err)}`, err));
      res.on('close', () => fail('protocol', 'connection closed before the answer ended'));
    });
    // A 101 hands the socket over to a protocol that is not XML-RPC; without this listener
    // node:http destroys the socket and emits nothing the caller would see.
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      fail('protocol', 'answered 101 Switching Protocols');
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const failure = FAILURE_BY_CODE[err.code ?? ''] ?? 'protocol';
      fail(failure, describeError(err), err);
    });
    // node:http emits the request's 'close' before the answer's 'end' when the peer closed
    // right after a complete answer: that answer still ends (and is read).
    req.on('close', () => {
      if (!answer?.complete) fail('protocol', 'connection closed without an answer');
    });
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}
