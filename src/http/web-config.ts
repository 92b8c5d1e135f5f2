// --web.config.file: TLS and basic auth in the Prometheus exporter-toolkit web-config.yml format
// (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md).
//
// Everything is read and checked once at start: an unknown key, an unreadable or unusable
// certificate or key, a value that is not a bcrypt hash is a ConfigError (exit 2) naming the
// file and the key. Secret values (hashes) never appear in an error message; they are also
// registered with the logger's redaction.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type { NextFunction, Request, Response } from 'express';
import { readYamlFile } from '../yaml-file.js';
import { ConfigError, describeError } from '../errors.js';
import { registerSecret } from '../log.js';
import { parseDuration } from '../duration.js';

/** exporter-toolkit's client_auth_type values (RequireClientCert is its old name for RequireAnyClientCert). */
export type ClientAuthType = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';

export interface TlsSettings {
  /** The file, or "(inline cert)" when the certificate is given in the YAML. */
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  minVersion: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  clientAuth: ClientAuthType;
  /** The CA bundle client certificates are verified against (client_ca_file or client_ca). */
  clientCa?: Buffer;
  /** OpenSSL names of the TLS 1.2 cipher_suites; TLS 1.3's are not configurable, as in Go. */
  ciphers?: string;
  /** curve_preferences as OpenSSL group names, colon-separated. */
  ecdhCurve?: string;
  /** client_allowed_sans: a client certificate must carry one of these SANs. */
  allowedSans?: string[];
  honorCipherOrder?: boolean;
}

export interface RateLimit {
  intervalMs: number;
  burst: number;
}

export interface WebConfig {
  file: string;
  tls?: TlsSettings;
  /** user → bcrypt hash; empty when basic auth is off. */
  basicAuthUsers: Map<string, string>;
  /** Response headers from http_server_config.headers. */
  headers: Record<string, string>;
  /** rate_limit: one request per interval with a burst, over all clients (absent: no limit). */
  rateLimit?: RateLimit;
}

/** exporter-toolkit's names → Node's. */
const TLS_VERSIONS: Readonly<Record<string, tls.SecureVersion>> = {
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};
/** Names toolkit knows that Node 20's OpenSSL will not negotiate at its default security level. */
const TLS_VERSIONS_REFUSED = ['TLS10', 'TLS11'];
const VERSION_ORDER: readonly tls.SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

const CLIENT_AUTH_TYPES: Readonly<Record<string, ClientAuthType>> = {
  '': 'NoClientCert',
  NoClientCert: 'NoClientCert',
  RequestClientCert: 'RequestClientCert',
  RequireAnyClientCert: 'RequireAnyClientCert',
  RequireClientCert: 'RequireAnyClientCert',
  VerifyClientCertIfGiven: 'VerifyClientCertIfGiven',
  RequireAndVerifyClientCert: 'RequireAndVerifyClientCert',
};

/** Go's tls.CipherSuites() names → OpenSSL's; the TLS 1.3 ones are accepted and, as in Go, change nothing. */
const CIPHER_SUITES: Readonly<Record<string, string | null>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
};
/** Go's HTTP/2 server needs one of these when cipher_suites restricts TLS 1.2 (toolkit refuses the config otherwise). */
const HTTP2_REQUIRED_CIPHERS = ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'];

const CURVES: Readonly<Record<string, string>> = {
  CurveP256: 'P-256',
  CurveP384: 'P-384',
  CurveP521: 'P-521',
  X25519: 'X25519',
};

/** The headers exporter-toolkit allows in http_server_config.headers, with the values it allows (empty: any). */
const ALLOWED_HEADERS: Readonly<Record<string, readonly string[]>> = {
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
  'Content-Security-Policy': [],
};

const TOP_KEYS = ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit'];
const TLS_KEYS = [
  'cert_file',
  'key_file',
  'cert',
  'key',
  'client_ca',
  'client_auth_type',
  'client_ca_file',
  'min_version',
  'max_version',
  'prefer_server_cipher_suites',
  'cipher_suites',
  'curve_preferences',
  'client_allowed_sans',
];
const HTTP_KEYS = ['http2', 'headers'];
const RATE_KEYS = ['interval', 'burst'];

/** $2a$, $2b$ or $2y$, a two-digit cost, 22 characters of salt and 31 of hash. */
const BCRYPT_RE = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  return typeof v;
}

export function parseWebConfig(doc: unknown, file: string, baseDir: string = path.dirname(path.resolve(file))): WebConfig {
  const fail = (key: string | undefined, problem: string): never => {
    throw new ConfigError(file, key, problem);
  };
  const map = (v: unknown, key: string, allowed: readonly string[], unsupported: readonly string[] = []): Record<string, unknown> => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(key || undefined, `must be a mapping, got ${kind(v)}`);
    for (const k of Object.keys(v)) {
      const full = key ? `${key}.${k}` : k;
      if (unsupported.includes(k)) fail(full, 'is not supported by hostaudit-exporter');
      if (!allowed.includes(k)) fail(full, `unknown key (allowed: ${allowed.join(', ')})`);
    }
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, key: string): string => {
    if (typeof v !== 'string' || v === '') return fail(key, `must be a non-empty string, got ${kind(v)}`);
    return v;
  };
  const readFile = (p: string, key: string): Buffer => {
    try {
      return readFileSync(p);
    } catch (err) {
      return fail(key, `cannot read ${p}: ${describeError(err)}`);
    }
  };

  const readPem = (k: string, inlineKey: string, t: Record<string, unknown>, given: (k: string) => boolean): Buffer | undefined => {
    if (given(k)) return readFile(path.resolve(baseDir, str(t[k], `tls_server_config.${k}`)), `tls_server_config.${k}`);
    if (given(inlineKey)) return Buffer.from(str(t[inlineKey], `tls_server_config.${inlineKey}`));
    return undefined;
  };
  const parseTls = (t: Record<string, unknown>, given: (k: string) => boolean): TlsSettings => {
    const cert = readPem('cert_file', 'cert', t, given);
    if (!cert) return fail('tls_server_config.cert_file', 'missing one of cert or cert_file');
    const key = readPem('key_file', 'key', t, given);
    if (!key) return fail('tls_server_config.key_file', 'missing one of key or key_file');
    // An inline key is a secret like a hash: never logged.
    if (!given('key_file')) registerSecret(key.toString());
    const certFile = given('cert_file') ? path.resolve(baseDir, t.cert_file as string) : '(inline cert)';
    const keyFile = given('key_file') ? path.resolve(baseDir, t.key_file as string) : '(inline key)';
    const version = (k: 'min_version' | 'max_version'): tls.SecureVersion | undefined => {
      const v = t[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v === 'string' && TLS_VERSIONS_REFUSED.includes(v)) {
        return fail(`tls_server_config.${k}`, `${v} is not supported: Node's OpenSSL refuses TLS 1.0 and 1.1; use TLS12 or TLS13`);
      }
      const s = typeof v === 'string' ? TLS_VERSIONS[v] : undefined;
      if (!s) return fail(`tls_server_config.${k}`, `unknown TLS version (one of ${Object.keys(TLS_VERSIONS).join(', ')})`);
      return s;
    };
    // exporter-toolkit's default minimum is TLS 1.2.
    const minVersion = version('min_version') ?? 'TLSv1.2';
    const maxVersion = version('max_version');
    if (maxVersion && VERSION_ORDER.indexOf(maxVersion) < VERSION_ORDER.indexOf(minVersion)) {
      fail('tls_server_config.max_version', 'must not be lower than min_version');
    }
    const authName = t.client_auth_type ?? '';
    const clientAuth = typeof authName === 'string' ? CLIENT_AUTH_TYPES[authName] : undefined;
    if (!clientAuth) {
      return fail('tls_server_config.client_auth_type', `invalid ClientAuth (one of ${Object.keys(CLIENT_AUTH_TYPES).filter(Boolean).join(', ')})`);
    }
    const settings: TlsSettings = { certFile, keyFile, cert, key, minVersion, clientAuth, ...(maxVersion ? { maxVersion } : {}) };
    const clientCa = readPem('client_ca_file', 'client_ca', t, given);
    if (clientCa) {
      if (clientAuth === 'NoClientCert') {
        fail('tls_server_config.client_ca_file', "client CA's have been configured without a Client Auth Policy (set client_auth_type)");
      }
      settings.clientCa = clientCa;
    }
    if (t.prefer_server_cipher_suites !== undefined) {
      if (typeof t.prefer_server_cipher_suites !== 'boolean') {
        fail('tls_server_config.prefer_server_cipher_suites', `must be true or false, got ${kind(t.prefer_server_cipher_suites)}`);
      }
      settings.honorCipherOrder = t.prefer_server_cipher_suites as boolean;
    }
    const list = (k: string): string[] => {
      const v = t[k];
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v)) return fail(`tls_server_config.${k}`, `must be a list, got ${kind(v)}`);
      return v.map((x, i) => str(x, `tls_server_config.${k}[${i}]`));
    };
    const suites = list('cipher_suites');
    const tls12 = suites.map((n) => {
      const o = CIPHER_SUITES[n];
      if (o === undefined) return fail('tls_server_config.cipher_suites', `unknown cipher: ${n}`);
      return o;
    });
    if (suites.length > 0) {
      const http2 = (top.http_server_config as { http2?: unknown } | null | undefined)?.http2 !== false;
      if (http2 && minVersion !== 'TLSv1.3' && !suites.some((n) => HTTP2_REQUIRED_CIPHERS.includes(n))) {
        fail('tls_server_config.cipher_suites', `TLSConfig.CipherSuites is missing an HTTP/2-required AES_128_GCM_SHA256 cipher (one of ${HTTP2_REQUIRED_CIPHERS.join(', ')}), or set http_server_config.http2: false`);
      }
      const names = tls12.filter((o): o is string => o !== null);
      // Only TLS 1.3 names: TLS 1.2 keeps its defaults, as Go ignores them too.
      if (names.length > 0) settings.ciphers = names.join(':');
    }
    const curves = list('curve_preferences').map((n) => CURVES[n] ?? fail('tls_server_config.curve_preferences', `unknown curve: ${n}`));
    if (curves.length > 0) settings.ecdhCurve = curves.join(':');
    const sans = list('client_allowed_sans');
    if (t.client_allowed_sans !== undefined && t.client_allowed_sans !== null) settings.allowedSans = sans;
    // Build a context now, so a mismatched pair or a file that is not PEM fails at start
    // with the file named, not at the first handshake.
    try {
      tls.createSecureContext(secureContextOptions(settings));
    } catch (err) {
      fail('tls_server_config', `cert_file ${certFile} and key_file ${keyFile} are not a usable certificate and key: ${describeError(err)}`);
    }
    return settings;
  };

  const out: WebConfig = { file, basicAuthUsers: new Map(), headers: {} };
  if (doc === null || doc === undefined) return out; // an empty file: plain HTTP, no auth
  const top = map(doc, '', TOP_KEYS);

  if (top.tls_server_config !== undefined && top.tls_server_config !== null) {
    const t = map(top.tls_server_config, 'tls_server_config', TLS_KEYS);
    const given = (k: string): boolean => t[k] !== undefined && t[k] !== null && t[k] !== '';
    // As exporter-toolkit: TLS is on once any certificate, key, CA or client_auth_type is given.
    if (['cert_file', 'key_file', 'cert', 'key', 'client_ca_file', 'client_ca', 'client_auth_type'].some(given)) {
      out.tls = parseTls(t, given);
    }
  }

  if (top.http_server_config !== undefined && top.http_server_config !== null) {
    const h = map(top.http_server_config, 'http_server_config', HTTP_KEYS);
    if (h.http2 !== undefined && typeof h.http2 !== 'boolean') {
      fail('http_server_config.http2', `must be true or false, got ${kind(h.http2)}`);
    }
    // http2 is accepted for compatibility; this exporter serves HTTP/1.1, which every Prometheus speaks.
    if (h.headers !== undefined && h.headers !== null) {
      const hs = map(h.headers, 'http_server_config.headers', Object.keys(ALLOWED_HEADERS));
      for (const [k, v] of Object.entries(hs)) {
        const key = `http_server_config.headers.${k}`;
        // Go's YAML reads any scalar into a string: X-XSS-Protection: 1 is "1".
        const val = typeof v === 'number' || typeof v === 'boolean' ? String(v) : str(v, key);
        if (/[\r\n]/.test(val)) fail(key, 'must be a single line');
        const allowed = ALLOWED_HEADERS[k] ?? [];
        if (allowed.length > 0 && !allowed.includes(val)) fail(key, `invalid value: expected one of ${allowed.join(', ')}`);
        out.headers[k] = val;
      }
    }
  }

  if (top.rate_limit !== undefined && top.rate_limit !== null) {
    const r = map(top.rate_limit, 'rate_limit', RATE_KEYS);
    let intervalMs = 0;
    if (typeof r.interval === 'number' && Number.isSafeInteger(r.interval) && r.interval >= 0) {
      intervalMs = r.interval / 1e6; // Go reads a bare number as nanoseconds
    } else if (typeof r.interval === 'string' && parseDuration(r.interval) !== undefined) {
      intervalMs = parseDuration(r.interval) as number;
    } else if (r.interval !== undefined) {
      fail('rate_limit.interval', 'must be a duration such as 1s or 100ms');
    }
    const burst = r.burst ?? 0;
    if (typeof burst !== 'number' || !Number.isSafeInteger(burst) || burst < 0) fail('rate_limit.burst', 'must be a whole number, 0 or more');
    // An interval of 0 turns the limiter off, as in exporter-toolkit.
    if (intervalMs > 0) out.rateLimit = { intervalMs, burst: burst as number };
  }

  if (top.basic_auth_users !== undefined && top.basic_auth_users !== null) {
    const users = map(top.basic_auth_users, 'basic_auth_users', Object.keys(top.basic_auth_users as object));
    for (const [user, hash] of Object.entries(users)) {
      const key = `basic_auth_users.${user}`;
      if (user.includes(':')) fail(key, 'a user name cannot contain ":" (basic auth separates user and password with it)');
      // The value is a secret: never echoed, whatever is wrong with it.
      if (typeof hash !== 'string' || !BCRYPT_RE.test(hash)) {
        fail(key, 'must be a bcrypt hash ($2a$, $2b$ or $2y$ with a cost, as made by htpasswd -nBC 10 "" or bcrypt tools)');
      }
      const cost = Number(BCRYPT_RE.exec(hash as string)?.[1]);
      if (cost < 4 || cost > 31) fail(key, 'bcrypt cost must be between 04 and 31');
      out.basicAuthUsers.set(user, hash as string);
    }
  }
  return out;
}

/** Reads and validates a web config file. Registers its hashes as secrets for the logger. */
export function loadWebConfig(file: string): WebConfig {
  const abs = path.resolve(file);
  const doc = readYamlFile(file, { what: 'web config file', quoteErrors: false }); // may quote a hash: codes only
  const cfg = parseWebConfig(doc, file, path.dirname(abs));
  for (const h of cfg.basicAuthUsers.values()) registerSecret(h);
  return cfg;
}

export function secureContextOptions(t: TlsSettings): tls.SecureContextOptions {
  return {
    cert: t.cert,
    key: t.key,
    minVersion: t.minVersion,
    ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
    ...(t.clientCa ? { ca: t.clientCa } : {}),
    ...(t.ciphers ? { ciphers: t.ciphers } : {}),
    ...(t.ecdhCurve ? { ecdhCurve: t.ecdhCurve } : {}),
    ...(t.honorCipherOrder !== undefined ? { honorCipherOrder: t.honorCipherOrder } : {}),
  };
}

export const TLS_HANDSHAKE_TIMEOUT_MS = 5000;

/** Options for https.createServer. */
export function tlsServerOptions(t: TlsSettings): tls.TlsOptions {
  return {
    // A client that starts a handshake and stalls (one byte of ClientHello) is dropped after
    // this, not Node's default 120 s.
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    ...secureContextOptions(t),
    ...(t.clientAuth === 'NoClientCert' ? {} : { requestCert: true, rejectUnauthorized: t.clientAuth === 'RequireAndVerifyClientCert' }),
  };
}

/**
 * Why a client's certificate does not meet client_auth_type or client_allowed_sans, or
 * undefined when it does. Node verifies during the handshake only for RequireAndVerifyClientCert;
 * the others ask for a certificate and are checked here once the handshake is done.
 */
export function clientCertificateProblem(t: TlsSettings, socket: tls.TLSSocket): string | undefined {
  const peer = socket.getPeerCertificate();
  const presented = peer !== null && typeof peer === 'object' && Object.keys(peer).length > 0;
  if (t.clientAuth === 'RequireAnyClientCert' && !presented) return 'certificate required';
  if (t.clientAuth === 'VerifyClientCertIfGiven' && presented && !socket.authorized) return 'bad certificate';
  if (t.allowedSans && presented) {
    // "DNS:a, IP Address:127.0.0.1, email:x@y, URI:spiffe://..." → the values.
    const sans = (peer.subjectaltname ?? '').split(', ').map((e) => e.slice(e.indexOf(':') + 1));
    if (!sans.some((v) => t.allowedSans?.includes(v))) return 'could not find allowed SANs in client cert';
  }
  return undefined;
}

/** Closes TLS connections whose client certificate clientCertificateProblem refuses. */
export function enforceClientCertificates(server: tls.Server, t: TlsSettings): void {
  if (t.clientAuth === 'NoClientCert' || (t.clientAuth !== 'RequireAnyClientCert' && t.clientAuth !== 'VerifyClientCertIfGiven' && !t.allowedSans)) return;
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    if (clientCertificateProblem(t, socket) !== undefined) socket.destroy();
  });
}

export { BasicAuth, type BasicAuthOptions } from './basic-auth.js';

/** Middleware adding http_server_config.headers to every response. */
export function headersMiddleware(headers: Record<string, string>): (req: Request, res: Response, next: NextFunction) => void {
  return (_req, res, next) => {
    res.set(headers);
    next();
  };
}
