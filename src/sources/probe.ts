// One HTTP(S) health check: GET the URL, follow redirects (bounded), and report whether a 2xx
// answer arrived within the timeout. I/O only; returns a plain reading, never throws.
//
// node:http rather than fetch(): fetch has no per-request way to skip certificate
// verification (insecure_skip_verify) without the undici package, and its errors all read
// "fetch failed", hiding the reason (refused, TLS, timeout) the debug log must give.
import http from 'node:http';
import https from 'node:https';
import { describeError } from '../errors.js';
import { closeWithReset } from './close-with-reset.js';
import { safeUrl } from './supervisor.js';
import { TLSSocket, type DetailedPeerCertificate } from 'node:tls';

export interface ProbeTarget {
  url: string;
  timeoutMs: number;
  insecureSkipVerify: boolean;
  /** Success only when the body (its first MAX_MATCH_BYTES) matches. */
  expectBody?: RegExp;
}

export interface ProbeResult {
  success: boolean;
  /** Status of the last answer received; 0 when nothing answered. */
  statusCode: number;
  durationSeconds: number;
  /** Why it failed (or "200 OK"), for the debug log. Never holds URL credentials. */
  reason: string;
  /** Redirects followed. */
  redirects: number;
  /** HTTPS: the earliest notAfter (unix seconds) in the chain the last server presented. */
  certExpirySeconds?: number;
}

/** As browsers and curl's default --max-redirs are generous, a loop is what this bounds. */
export const MAX_REDIRECTS = 10;
/** A health endpoint's body is small; more than this is read no further (the answer counts). */
const MAX_BODY_BYTES = 1024 * 1024;
/** expect_body is matched against this much of the body at most: a regex over a hostile megabyte could hold the event loop. */
export const MAX_MATCH_BYTES = 64 * 1024;

interface Answer {
  status: number;
  location?: string;
  /** The first MAX_MATCH_BYTES of the body, when asked for. */
  body?: string;
  certExpirySeconds?: number;
}

export async function probe(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
  const t0 = process.hrtime.bigint();
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let certExpirySeconds: number | undefined;
  const done = (success: boolean, statusCode: number, reason: string, redirects: number): ProbeResult => ({
    success,
    statusCode,
    durationSeconds: Number(process.hrtime.bigint() - t0) / 1e9,
    reason,
    redirects,
    ...(certExpirySeconds !== undefined ? { certExpirySeconds } : {}),
  });

  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    return done(false, 0, 'invalid URL', 0);
  }
  let lastStatus = 0;
  const seen = new Set<string>();
  for (let redirects = 0; ; redirects++) {
    let answer: Answer;
    try {
      answer = await request(url, target.insecureSkipVerify, combined, target.expectBody !== undefined);
    } catch (err) {
      const why = timeout.aborted
        ? `no complete answer within ${target.timeoutMs}ms`
        : signal?.aborted
          ? 'aborted'
          : describeError(err);
      return done(false, lastStatus, `${safeUrl(url.href)}: ${why}`, redirects);
    }
    lastStatus = answer.status;
    certExpirySeconds = answer.certExpirySeconds;
    const isRedirect = [301, 302, 303, 307, 308].includes(answer.status) && answer.location !== undefined;
    if (!isRedirect) {
      const ok = answer.status >= 200 && answer.status < 300;
      if (ok && target.expectBody && !target.expectBody.test(answer.body ?? '')) {
        return done(false, answer.status, `${safeUrl(url.href)}: HTTP ${answer.status}, body does not match expect_body`, redirects);
      }
      return done(ok, answer.status, `${safeUrl(url.href)}: HTTP ${answer.status}`, redirects);
    }
    seen.add(url.href);
    let next: URL;
    try {
      next = new URL(answer.location as string, url);
    } catch {
      return done(false, answer.status, `${safeUrl(url.href)}: HTTP ${answer.status} with an invalid Location`, redirects);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      return done(false, answer.status, `${safeUrl(url.href)}: redirect to unsupported scheme ${next.protocol}`, redirects);
    }
    if (seen.has(next.href) || redirects + 1 > MAX_REDIRECTS) {
      const why = seen.has(next.href) ? 'redirect loop' : `more than ${MAX_REDIRECTS} redirects`;
      return done(false, answer.status, `${safeUrl(url.href)}: ${why} (to ${safeUrl(next.href)})`, redirects + 1);
    }
    // Credentials go only to the origin they were written for, as fetch() does.
    if (next.origin !== url.origin) {
      next.username = '';
      next.password = '';
    } else if (!next.username && url.username) {
      next.username = url.username;
      next.password = url.password;
    }
    url = next;
  }
}

function request(url: URL, insecure: boolean, signal: AbortSignal, wantBody: boolean): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'user-agent': 'hostaudit-exporter probe', accept: '*/*' };
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    const options: https.RequestOptions = {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      method: 'GET',
      headers,
      signal,
      // A fresh connection per probe: a kept-alive socket would hide a server that stopped accepting.
      agent: false,
    };
    if (url.protocol === 'https:') {
      options.rejectUnauthorized = !insecure;
      options.servername = /^[\d.]+$|:/.test(options.hostname as string) ? undefined : (options.hostname as string);
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(options, (res) => {
      const status = res.statusCode ?? 0;
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      const certExpirySeconds = res.socket instanceof TLSSocket ? earliestNotAfter(res.socket) : undefined;
      const kept: Buffer[] = [];
      let keptBytes = 0;
      const answer = (): Answer => ({
        status,
        location,
        ...(wantBody ? { body: Buffer.concat(kept).toString('utf8') } : {}),
        ...(certExpirySeconds !== undefined ? { certExpirySeconds } : {}),
      });
      // No TIME_WAIT left on the probed host (close-with-reset.ts).
      res.prependListener('end', () => closeWithReset(res.socket));
      let size = 0;
      // The answer counts once the body has arrived: a server that sends headers and then
      // stalls is not healthy.
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (wantBody && keptBytes < MAX_MATCH_BYTES) {
          const part = c.subarray(0, MAX_MATCH_BYTES - keptBytes);
          kept.push(part);
          keptBytes += part.length;
        }
        if (size > MAX_BODY_BYTES) {
          res.destroy();
          resolve(answer());
        }
      });
      res.on('end', () => resolve(answer()));
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete && size <= MAX_BODY_BYTES) reject(new Error('connection closed mid-answer'));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The earliest notAfter (unix seconds) in the chain the server presented; undefined without one. */
export function earliestNotAfter(socket: TLSSocket): number | undefined {
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  let earliest: number | undefined;
  const seen = new Set<string>();
  // The chain ends at a self-signed certificate, whose issuerCertificate is itself.
  while (cert && cert.valid_to && !seen.has(cert.fingerprint256) && seen.size < 32) {
    seen.add(cert.fingerprint256);
    const t = Date.parse(cert.valid_to);
    if (Number.isFinite(t)) earliest = Math.min(earliest ?? Infinity, t / 1000);
    cert = cert.issuerCertificate;
  }
  return earliest;
}
