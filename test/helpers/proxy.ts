// A unix-socket proxy put between the exporter and a real supervisord: it forwards bytes
// unchanged, after an optional delay (a slow supervisord) or never (a hung one), and counts
// the XML-RPC requests passing through, including how many were in flight at once.
import { rmSync } from 'node:fs';
import net from 'node:net';

export interface ProxyStats {
  connections: number;
  /** Requests whose body names system.multicall: one per collection of the supervisor collector. */
  multicalls: number;
  /** Most system.multicall requests in flight at the same moment. */
  maxConcurrentMulticalls: number;
}

export class SocketProxy {
  /** Milliseconds before the first byte of a request is forwarded; Infinity: never answer. */
  delayMs = 0;
  readonly stats: ProxyStats = { connections: 0, multicalls: 0, maxConcurrentMulticalls: 0 };
  private inFlightMulticalls = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly socketPath: string,
    private readonly target: string,
  ) {
    this.server = net.createServer((client) => this.handle(client));
  }

  static async start(socketPath: string, target: string): Promise<SocketProxy> {
    const p = new SocketProxy(socketPath, target);
    rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(socketPath, resolve);
    });
    return p;
  }

  get url(): string {
    return `unix://${this.socketPath}`;
  }

  private handle(client: net.Socket): void {
    this.stats.connections++;
    this.sockets.add(client);
    let upstream: net.Socket | undefined;
    let counted = false;
    const pending: Buffer[] = [];
    let head = '';
    const finish = (): void => {
      if (counted) {
        counted = false;
        this.inFlightMulticalls--;
      }
      client.destroy();
      upstream?.destroy();
      this.sockets.delete(client);
    };
    client.on('error', finish);
    client.on('close', finish);
    client.on('data', (chunk: Buffer) => {
      if (!counted && head.length < 4096) {
        head += chunk.toString('latin1');
        if (head.includes('system.multicall')) {
          counted = true;
          this.stats.multicalls++;
          this.inFlightMulticalls++;
          this.stats.maxConcurrentMulticalls = Math.max(this.stats.maxConcurrentMulticalls, this.inFlightMulticalls);
        }
      }
      if (upstream) upstream.write(chunk);
      else pending.push(chunk);
    });
    const connect = (): void => {
      if (client.destroyed) return;
      upstream = net.connect(this.target);
      this.sockets.add(upstream);
      upstream.on('connect', () => {
        for (const c of pending.splice(0)) upstream?.write(c);
      });
      upstream.on('data', (d) => client.write(d));
      upstream.on('end', () => client.end());
      upstream.on('error', finish);
      upstream.on('close', () => {
        if (upstream) this.sockets.delete(upstream);
        finish();
      });
    };
    if (this.delayMs === Infinity) return; // accepted, never answered
    if (this.delayMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        connect();
      }, this.delayMs);
      this.timers.add(t);
    } else {
      connect();
    }
  }

  resetStats(): void {
    this.stats.connections = 0;
    this.stats.multicalls = 0;
    this.stats.maxConcurrentMulticalls = this.inFlightMulticalls;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
