// Hostile HTTP clients for the attack tests: pipelined floods that never read, idle
// connections, and a timed request; plus the CPU and RSS of a process around an attack.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** Opens `conns` connections that each send `requests` pipelined GETs at once and never read. */
export async function pipelineFlood(port: number, conns: number, requests: number, path: string): Promise<net.Socket[]> {
  const one = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(requests);
  const sockets = await Promise.all(
    Array.from({ length: conns }, () => new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', () => undefined);
      // Never read: the answers pile up in the kernel's buffers and the server's.
      s.pause();
    })),
  );
  for (const s of sockets) s.write(one);
  return sockets;
}

/** Opens `n` connections that never send a byte. Connections the server refuses are counted, not thrown. */
export async function idleConnections(port: number, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, () => new Promise<net.Socket>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        s.once('connect', () => resolve(s));
        s.once('close', () => resolve(s));
      })),
    );
    out.push(...batch);
  }
  return out;
}

/** Polls until every socket is closed; resolves with how many are still open after `timeoutMs`. */
export async function waitClosed(sockets: net.Socket[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = sockets.filter((s) => !s.destroyed && s.readyState !== 'closed').length;
    if (open === 0 || Date.now() > deadline) return open;
    // Drain what the server sent so a close (FIN) is seen; the flood itself never read.
    for (const s of sockets) s.resume();
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface Timed {
  status: number;
  ms: number;
  body: string;
}

/** One GET on a fresh connection, timed; status 0 when the connection failed or timed out. */
export function timedGet(url: string, headers: Record<string, string> = {}, timeoutMs = 60_000): Promise<Timed> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: 0, ms: performance.now() - t0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0, body: '' }));
  });
}

export interface ProcUsage {
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU time (user + system) and RSS of a process, from /proc. */
export function procUsage(pid: number): ProcUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuSeconds: ticks / 100, rssBytes: rssPages * 4096 };
}

export function basicHeader(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
