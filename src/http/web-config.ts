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
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, describeError } from '../errors.js';
import { registerSecret } from '../log.js';

export interface TlsSettings {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  minVersion: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** RequireAndVerifyClientCert: the CA bundle client certificates must chain to. */
  clientCa?: Buffer;
  honorCipherOrder?: boolean;
}

export interface WebConfig {
  file: string;
  tls?: TlsSettings;
  /** user → bcrypt hash; empty when basic auth is off. */
  basicAuthUsers: Map<string, string>;
  /** Response headers from http_server_config.headers. */
  headers: Record<string, string>;
}

/** exporter-toolkit's names → Node's. */
const TLS_VERSIONS: Readonly<Record<string, tls.SecureVersion>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};
const VERSION_ORDER: readonly tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** exporter-toolkit client_auth_type values this exporter implements. */
const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequireAndVerifyClientCert'] as const;

/** The headers exporter-toolkit allows in http_server_config.headers. */
const ALLOWED_HEADERS = [
  'Strict-Transport-Security',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'X-XSS-Protection',
  'Content-Security-Policy',
];

const TOP_KEYS = ['tls_server_config', 'http_server_config', 'basic_auth_users'];
const TLS_KEYS = [
  'cert_file',
  'key_file',
  'client_auth_type',
  'client_ca_file',
  'min_version',
  'max_version',
  'prefer_server_cipher_suites',
];
/** Known to exporter-toolkit but not implemented here: named in the error rather than ignored. */
const TLS_UNSUPPORTED = ['cert', 'key', 'cipher_suites', 'curve_preferences', 'client_allowed_sans'];
const HTTP_KEYS = ['http2', 'headers'];

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

  const out: WebConfig = { file, basicAuthUsers: new Map(), headers: {} };
  if (doc === null || doc === undefined) return out; // an empty file: plain HTTP, no auth
  const top = map(doc, '', TOP_KEYS);

  if (top.tls_server_config !== undefined && top.tls_server_config !== null) {
    const t = map(top.tls_server_config, 'tls_server_config', TLS_KEYS, TLS_UNSUPPORTED);
    if (t.cert_file === undefined) fail('tls_server_config.cert_file', 'is required when tls_server_config is set');
    if (t.key_file === undefined) fail('tls_server_config.key_file', 'is required when tls_server_config is set');
    const certFile = path.resolve(baseDir, str(t.cert_file, 'tls_server_config.cert_file'));
    const keyFile = path.resolve(baseDir, str(t.key_file, 'tls_server_config.key_file'));
    const cert = readFile(certFile, 'tls_server_config.cert_file');
    const key = readFile(keyFile, 'tls_server_config.key_file');
    const version = (k: 'min_version' | 'max_version'): tls.SecureVersion | undefined => {
      const v = t[k];
      if (v === undefined) return undefined;
      const s = typeof v === 'string' ? TLS_VERSIONS[v] : undefined;
      if (!s) return fail(`tls_server_config.${k}`, `must be one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
      return s;
    };
    // exporter-toolkit's default minimum is TLS 1.2.
    const minVersion = version('min_version') ?? 'TLSv1.2';
    const maxVersion = version('max_version');
    if (maxVersion && VERSION_ORDER.indexOf(maxVersion) < VERSION_ORDER.indexOf(minVersion)) {
      fail('tls_server_config.max_version', 'must not be lower than min_version');
    }
    const settings: TlsSettings = { certFile, keyFile, cert, key, minVersion, ...(maxVersion ? { maxVersion } : {}) };
    if (t.prefer_server_cipher_suites !== undefined) {
      if (typeof t.prefer_server_cipher_suites !== 'boolean') {
        fail('tls_server_config.prefer_server_cipher_suites', `must be true or false, got ${kind(t.prefer_server_cipher_suites)}`);
      }
      settings.honorCipherOrder = t.prefer_server_cipher_suites as boolean;
    }
    let clientAuth = t.client_auth_type === undefined ? undefined : str(t.client_auth_type, 'tls_server_config.client_auth_type');
    if (clientAuth !== undefined && !(CLIENT_AUTH_TYPES as readonly string[]).includes(clientAuth)) {
      fail('tls_server_config.client_auth_type', `must be one of ${CLIENT_AUTH_TYPES.join(', ')}`);
    }
    if (t.client_ca_file !== undefined) {
      const caFile = path.resolve(baseDir, str(t.client_ca_file, 'tls_server_config.client_ca_file'));
      settings.clientCa = readFile(caFile, 'tls_server_config.client_ca_file');
      clientAuth ??= 'RequireAndVerifyClientCert'; // as exporter-toolkit does
    }
    if (clientAuth === 'RequireAndVerifyClientCert' && !settings.clientCa) {
      fail('tls_server_config.client_ca_file', 'is required with client_auth_type RequireAndVerifyClientCert');
    }
    if (clientAuth === 'NoClientCert') delete settings.clientCa;
    // Build a context now, so a mismatched pair or a file that is not PEM fails at start
    // with the file named, not at the first handshake.
    try {
      tls.createSecureContext(secureContextOptions(settings));
    } catch (err) {
      fail('tls_server_config', `cert_file ${certFile} and key_file ${keyFile} are not a usable certificate and key: ${describeError(err)}`);
    }
    out.tls = settings;
  }

  if (top.http_server_config !== undefined && top.http_server_config !== null) {
    const h = map(top.http_server_config, 'http_server_config', HTTP_KEYS);
    if (h.http2 !== undefined && typeof h.http2 !== 'boolean') {
      fail('http_server_config.http2', `must be true or false, got ${kind(h.http2)}`);
    }
    // http2 is accepted for compatibility; this exporter serves HTTP/1.1, which every Prometheus speaks.
    if (h.headers !== undefined && h.headers !== null) {
      const hs = map(h.headers, 'http_server_config.headers', ALLOWED_HEADERS);
      for (const [k, v] of Object.entries(hs)) {
        const val = str(v, `http_server_config.headers.${k}`);
        if (/[\r\n]/.test(val)) fail(`http_server_config.headers.${k}`, 'must be a single line');
        out.headers[k] = val;
      }
    }
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
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(file, undefined, `cannot read web config file: ${describeError(err)}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    // The YAML parser's message may quote the offending text (a hash); give the position only.
    throw new ConfigError(file, pos ? `line ${pos.line} column ${pos.col}` : undefined, `invalid YAML (${first.code})`);
  }
  const cfg = parseWebConfig(doc.toJS(), file, path.dirname(abs));
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
    ...(t.clientCa ? { requestCert: true, rejectUnauthorized: true } : {}),
  };
}

export { BasicAuth, type BasicAuthOptions } from './basic-auth.js';

/** Middleware adding http_server_config.headers to every response. */
export function headersMiddleware(headers: Record<string, string>): (req: Request, res: Response, next: NextFunction) => void {
  return (_req, res, next) => {
    res.set(headers);
    next();
  };
}
