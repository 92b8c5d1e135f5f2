// A hostile supervisord: a unix socket that either forwards to a real supervisord or answers
// as an attacker would (101, endless 1xx, silence, a trickle, an endless or oversized body,
// garbage, a fault, deep nesting, a huge list, crafted process lists). Switched at run time,
// so one exporter meets the attack and then the real supervisord again.
import { rmSync } from 'node:fs';
import net from 'node:net';

/** What the peer does with one request: `methods` are the XML-RPC method names it asked for. */
export type Behaviour = (client: net.Socket, methods: string[]) => void;

export class HostileSupervisord {
  behaviour: Behaviour;
  /** Requests seen, by behaviour: the tests check the exporter kept asking. */
  requests = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly socketPath: string,
    readonly target: string | undefined,
  ) {
    this.behaviour = target ? this.forward() : answers.silent();
    this.server = net.createServer((c) => this.handle(c));
  }

  static async start(socketPath: string, target?: string): Promise<HostileSupervisord> {
    const h = new HostileSupervisord(socketPath, target);
    rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      h.server.once('error', reject);
      h.server.listen(socketPath, resolve);
    });
    return h;
  }

  get url(): string {
    return `unix://${this.socketPath}`;
  }

  /** Forwards the request (already read) to the real supervisord and its answer back. */
  forward(): Behaviour {
    return (client, _methods) => {
      const raw = (client as net.Socket & { raw?: Buffer }).raw ?? Buffer.alloc(0);
      if (!this.target) throw new Error('no real supervisord to forward to');
      const up = net.connect(this.target);
      this.sockets.add(up);
      up.on('connect', () => up.write(raw));
      up.on('data', (d) => client.write(d));
      up.on('end', () => client.end());
      up.on('error', () => client.destroy());
      up.on('close', () => this.sockets.delete(up));
      client.on('close', () => up.destroy());
    };
  }

  /** Writes `chunk` every `ms` until the client goes away. */
  every(client: net.Socket, ms: number, chunk: string | Buffer): void {
    const t = setInterval(() => {
      if (client.destroyed) {
        clearInterval(t);
        this.timers.delete(t);
        return;
      }
      client.write(chunk);
    }, ms);
    this.timers.add(t);
  }

  private handle(client: net.Socket): void {
    this.sockets.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => this.sockets.delete(client));
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      client.off('data', onData);
      const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
      (client as net.Socket & { raw?: Buffer }).raw = buf;
      const methods = [...body.matchAll(/<string>([a-zA-Z.]+)<\/string>|<methodName>([a-zA-Z.]+)<\/methodName>/g)].map((m) => (m[1] ?? m[2]) as string);
      this.requests++;
      this.behaviour(client, methods);
    };
    client.on('data', onData);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An HTTP/1.1 200 answer carrying `body` as text/xml. */
export function httpAnswer(body: string | Buffer, status = '200 OK'): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status}\r\nContent-Type: text/xml\r\nContent-Length: ${b.length}\r\n\r\n`), b]);
}

export function xmlString(s: string): string {
  return `<value><string>${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</string></value>`;
}

function member(name: string, v: string): string {
  return `<member><name>${name}</name>${v}</member>`;
}

const int = (n: number): string => `<value><int>${n}</int></value>`;

export interface FakeProcess {
  name: string;
  group?: string;
  pid: number;
  state?: number;
}

/** supervisord's multicall answer for the calls asked: head calls, and getAllProcessInfo from `processes`. */
export function multicallAnswer(methods: string[], processes: readonly FakeProcess[]): string {
  const now = Math.floor(Date.now() / 1000);
  const values = methods
    .filter((m) => m !== 'system.multicall')
    .map((m) => {
      switch (m) {
        case 'supervisor.getSupervisorVersion':
          return xmlString('4.2.5');
        case 'supervisor.getIdentification':
          return xmlString('hostile');
        case 'supervisor.getState':
          return `<value><struct>${member('statecode', int(1))}${member('statename', xmlString('RUNNING'))}</struct></value>`;
        case 'supervisor.getPID':
          return int(process.pid);
        case 'supervisor.getAllProcessInfo':
          return `<value><array><data>${processes
            .map((p) => {
              const state = p.state ?? 20;
              return `<value><struct>${[
                member('name', xmlString(p.name)),
                member('group', xmlString(p.group ?? p.name)),
                member('description', xmlString(`pid ${p.pid}, uptime 0:01:00`)),
                member('start', int(now - 60)),
                member('stop', int(0)),
                member('now', int(now)),
                member('state', int(state)),
                member('statename', xmlString(state === 20 ? 'RUNNING' : 'STOPPED')),
                member('spawnerr', xmlString('')),
                member('exitstatus', int(0)),
                member('logfile', xmlString('')),
                member('stdout_logfile', xmlString('')),
                member('stderr_logfile', xmlString('')),
                member('pid', int(p.pid)),
              ].join('')}</struct></value>`;
            })
            .join('')}</data></array></value>`;
        default:
          return `<value><struct>${member('faultCode', int(1))}${member('faultString', xmlString('UNKNOWN_METHOD'))}</struct></value>`;
      }
    });
  return `<?xml version='1.0'?>\n<methodResponse><params><param><value><array><data>${values.join('')}</data></array></value></param></params></methodResponse>\n`;
}

/** The attacks, each a Behaviour. */
export const answers = {
  /** Accepts, reads the request, never answers. */
  silent: (): Behaviour => () => undefined,
  /** 101 Switching Protocols, then silence on the taken-over socket. */
  switching: (): Behaviour => (c) => c.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n'),
  /** 101 without an Upgrade header. */
  switchingBare: (): Behaviour => (c) => c.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'),
  /** A 102 Processing every 200 ms, forever. */
  informational: (h: HostileSupervisord): Behaviour => (c) => h.every(c, 200, 'HTTP/1.1 102 Processing\r\n\r\n'),
  /** The status line a byte a second. */
  trickle: (h: HostileSupervisord): Behaviour => (c) => h.every(c, 1000, 'H'),
  /** A 200 with a chunked body that never ends, 64 kB every 100 ms. */
  endless: (h: HostileSupervisord): Behaviour => (c) => {
    c.write('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n');
    h.every(c, 100, `10000\r\n${'<'.repeat(0x10000)}\r\n`);
  },
  /** A 200 with a chunked body sent as fast as the socket takes it, without end. */
  flood: (): Behaviour => (c) => {
    c.write('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = Buffer.from(`100000\r\n${'<'.repeat(0x100000)}\r\n`);
    const more = (): void => {
      while (!c.destroyed && c.write(chunk));
    };
    c.on('drain', more);
    more();
  },
  /** Declares a body over the exporter's cap. */
  oversize: (): Behaviour => (c) => c.write('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000000000\r\n\r\n<?xml'),
  /** Answers 200 with a body that is not XML. */
  notXml: (): Behaviour => (c) => c.end(httpAnswer('{"jsonrpc": "2.0", "result": []}')),
  /** An XML-RPC fault for any call. */
  fault: (): Behaviour => (c) =>
    c.end(
      httpAnswer(
        `<?xml version='1.0'?><methodResponse><fault><value><struct>${member('faultCode', int(2))}${member('faultString', xmlString('INCORRECT_PARAMETERS'))}</struct></value></fault></methodResponse>`,
      ),
    ),
  /** Values nested 100,000 deep. */
  deep: (): Behaviour => (c) =>
    c.end(httpAnswer(`<?xml version='1.0'?><methodResponse><params><param>${'<value><array><data>'.repeat(100_000)}${'</data></array></value>'.repeat(100_000)}</param></params></methodResponse>`)),
  /** An array of 300,000 empty values (2.4 MB: under the size cap, over the value cap). */
  hugeArray: (): Behaviour => {
    const a = httpAnswer(`<?xml version='1.0'?><methodResponse><params><param><value><array><data>${'<value/>'.repeat(300_000)}</data></array></value></param></params></methodResponse>`);
    return (c) => c.end(a);
  },
  /** HTTP 401, as supervisord answers wrong credentials. */
  unauthorized: (): Behaviour => (c) => c.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'),
  /** A well-formed supervisord answer listing `processes` (made once per set of calls asked). */
  processes: (processes: readonly FakeProcess[]): Behaviour => {
    const made = new Map<string, Buffer>();
    return (c, methods) => {
      const key = methods.join(',');
      let a = made.get(key);
      if (!a) made.set(key, (a = httpAnswer(multicallAnswer(methods, processes))));
      c.end(a);
    };
  },
};
