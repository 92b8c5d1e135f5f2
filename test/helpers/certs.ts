// Real certificates for TLS tests, made with the openssl command line: a CA, a server
// certificate for 127.0.0.1/localhost signed by it, a client certificate signed by it, and a
// second, unrelated CA (a certificate the client must not trust).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface TestCerts {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  otherCaCert: string;
  /** Contents, for clients. */
  ca: Buffer;
  otherCa: Buffer;
  clientCertPem: Buffer;
  clientKeyPem: Buffer;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

function selfSigned(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`,
  ]);
}

function signed(dir: string, name: string, cn: string, ext: string): void {
  openssl(dir, [
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`,
  ]);
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`,
  ]);
}

/** Makes every certificate in `dir`. */
export function makeCerts(dir: string): TestCerts {
  selfSigned(dir, 'ca', 'hostaudit test CA');
  selfSigned(dir, 'other-ca', 'some other CA');
  signed(dir, 'server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'client', 'prometheus', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string): string => path.join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCaCert: p('other-ca.crt'),
    ca: readFileSync(p('ca.crt')),
    otherCa: readFileSync(p('other-ca.crt')),
    clientCertPem: readFileSync(p('client.crt')),
    clientKeyPem: readFileSync(p('client.key')),
  };
}

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  protocol: string | null;
}

/** One HTTPS GET with Node's real TLS client (fresh connection, no agent reuse). */
export function httpsGet(
  url: string,
  opts: {
    ca?: Buffer;
    auth?: string;
    cert?: Buffer;
    key?: Buffer;
    minVersion?: 'TLSv1.2' | 'TLSv1.3';
    maxVersion?: 'TLSv1.2' | 'TLSv1.3';
    headers?: Record<string, string>;
    /** OpenSSL cipher list and key exchange groups the client offers. */
    ciphers?: string;
    ecdhCurve?: string;
  } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'GET',
        agent: false,
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
        ...(opts.minVersion ? { minVersion: opts.minVersion } : {}),
        ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
        ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
        ...(opts.ecdhCurve ? { ecdhCurve: opts.ecdhCurve } : {}),
        headers: { ...(opts.auth ? { authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {}), ...opts.headers },
        timeout: 15_000,
      },
      (res) => {
        const sock = res.socket as TLSSocket;
        const protocol = typeof sock?.getProtocol === 'function' ? sock.getProtocol() : null;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), protocol });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
