// Bounds what one client connection can cost the server: how many connections exist at once
// (below the fd limit), how many requests one connection may have unanswered or send in one
// burst (pipelining), how long it may stay silent before its first request, and how much
// output it may leave unread. A connection past a bound is destroyed, never answered at length:
// Prometheus sends one request at a time and reads every answer, so it never meets them.
import type http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';

export interface ConnectionGuardOptions {
  /** Connections held at once; at the cap the longest-idle one makes room, or the new one is closed. */
  maxConnections: number;
  /** Requests of one connection received and not yet answered. */
  maxInFlight?: number;
  /** Requests one connection may deliver in one turn of the event loop (a pipelined burst). */
  maxBurst?: number;
  /** A connection that has not started a request by then is closed. */
  firstRequestMs?: number;
  /** Output the peer has not taken for this long closes the connection. */
  stallMs?: number;
  /** Output buffered in this process for one connection beyond which it is closed. */
  maxBufferedBytes?: number;
  /** How often the time bounds are checked. */
  sweepMs?: number;
}

interface Conn {
  /** The TCP socket (what holds a descriptor). */
  socket: net.Socket;
  /** The socket HTTP is parsed from: the TCP socket, or the TLS socket over it. */
  http?: net.Socket;
  /** The chunk the HTTP parser is working through, so a condemned connection's rest is never parsed. */
  chunk?: Buffer;
  condemned: boolean;
  key: string;
  acceptedAt: number;
  requests: number;
  inFlight: number;
  burstTick: number;
  burst: number;
  /** Bytes handed to the kernel at the last sweep that saw progress. */
  lastFlushed: number;
  lastProgressAt: number;
}

export type GuardReason = 'capacity' | 'in_flight' | 'burst' | 'silent' | 'stalled' | 'buffered';

export class ConnectionGuard {
  private readonly conns = new Map<net.Socket, Conn>();
  private readonly byKey = new Map<string, Conn>();
  private readonly byHttp = new WeakMap<net.Socket, Conn>();
  private tick = 0;
  private tickScheduled = false;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly maxInFlight: number;
  private readonly maxBurst: number;
  private readonly firstRequestMs: number;
  private readonly stallMs: number;
  private readonly maxBufferedBytes: number;
  private readonly sweepMs: number;
  /** Connections closed by each bound (tests and the debug log read them). */
  readonly closed: Record<GuardReason, number> = { capacity: 0, in_flight: 0, burst: 0, silent: 0, stalled: 0, buffered: 0 };

  constructor(private readonly opts: ConnectionGuardOptions) {
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.maxBurst = opts.maxBurst ?? 8;
    this.firstRequestMs = opts.firstRequestMs ?? 10_000;
    this.stallMs = opts.stallMs ?? 10_000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 16 * 2 ** 20;
    this.sweepMs = opts.sweepMs ?? 1000;
  }

  get size(): number {
    return this.conns.size;
  }

  get maxConnections(): number {
    return this.opts.maxConnections;
  }

  /** Watches a server's raw TCP connections (for HTTPS too: the 'connection' event is the TCP socket). */
  attach(server: http.Server): void {
    server.on('connection', (socket: net.Socket) => this.onConnection(socket, !(server instanceof tls.Server)));
    server.on('secureConnection', (socket: net.Socket) => {
      const c = this.byKey.get(`${socket.remoteAddress}|${socket.remotePort}`);
      if (c) this.onHttpSocket(socket, c);
    });
    server.once('close', () => this.stop());
    this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** Wraps the request handler: a request from a connection past its bounds never reaches it. */
  wrap(handler: http.RequestListener): http.RequestListener {
    return (req, res) => {
      if (!this.admit(req, res)) return;
      handler(req, res);
    };
  }

  private onConnection(socket: net.Socket, plain: boolean): void {
    const now = Date.now();
    const key = `${socket.remoteAddress}|${socket.remotePort}`;
    const c: Conn = { socket, condemned: false, key, acceptedAt: now, requests: 0, inFlight: 0, burstTick: -1, burst: 0, lastFlushed: 0, lastProgressAt: now };
    this.conns.set(socket, c);
    this.byKey.set(key, c);
    if (plain) this.onHttpSocket(socket, c);
    socket.once('close', () => {
      this.conns.delete(socket);
      if (this.byKey.get(key) === c) this.byKey.delete(key);
    });
    if (this.conns.size > this.opts.maxConnections) {
      // Least recently active first (the map is kept in that order); the new one is last.
      for (const other of this.conns.values()) {
        if (other === c) break;
        if (other.inFlight === 0 && other.socket.writableLength === 0) {
          this.close(other, 'capacity');
          return;
        }
      }
      this.close(c, 'capacity');
    }
  }

  private onHttpSocket(socket: net.Socket, c: Conn): void {
    c.http = socket;
    this.byHttp.set(socket, c);
    // Node's parser works through a whole read before anything can stop it; a listener of our
    // own runs first on each chunk (it also makes Node parse in JavaScript, from the chunk we
    // hold), and a condemned connection's chunk is zeroed: the parser refuses the next byte.
    socket.prependListener('data', (d: Buffer) => {
      if (c.condemned) d.fill(0);
      else c.chunk = d;
    });
    // Runs after the parser's listener: the chunk is parsed, not kept.
    socket.on('data', () => {
      c.chunk = undefined;
    });
  }

  private admit(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const s = req.socket;
    // Requests parsed from a connection already closed (the rest of a pipelined burst) cost nothing more.
    if (s.destroyed) return false;
    const c = this.byHttp.get(s);
    if (!c) return true; // not a TCP connection this guard saw (an in-process test server)
    if (!this.tickScheduled) {
      this.tickScheduled = true;
      setImmediate(() => {
        this.tick++;
        this.tickScheduled = false;
      });
    }
    if (c.burstTick !== this.tick) {
      c.burstTick = this.tick;
      c.burst = 0;
    }
    c.burst++;
    c.requests++;
    c.inFlight++;
    if (c.burst > this.maxBurst) {
      this.close(c, 'burst');
      return false;
    }
    if (c.inFlight > this.maxInFlight) {
      this.close(c, 'in_flight');
      return false;
    }
    res.once('close', () => {
      c.inFlight--;
      // Move to the end: the most recently active connection is evicted last.
      if (this.conns.delete(c.socket)) this.conns.set(c.socket, c);
    });
    return true;
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of [...this.conns.values()]) {
      const s = c.socket;
      if (c.requests === 0 && now - c.acceptedAt > this.firstRequestMs) {
        this.close(c, 'silent');
        continue;
      }
      const pending = s.writableLength;
      // bytesWritten counts what is still queued here too; less that, what the kernel took.
      const flushed = s.bytesWritten - pending;
      if (pending > this.maxBufferedBytes) {
        this.close(c, 'buffered');
      } else if (pending === 0 || flushed !== c.lastFlushed) {
        c.lastFlushed = flushed;
        c.lastProgressAt = now;
      } else if (now - c.lastProgressAt > this.stallMs) {
        this.close(c, 'stalled');
      }
    }
  }

  private close(c: Conn, reason: GuardReason): void {
    this.closed[reason]++;
    c.condemned = true;
    c.chunk?.fill(0);
    c.chunk = undefined;
    this.conns.delete(c.socket);
    if (this.byKey.get(c.key) === c) this.byKey.delete(c.key);
    c.http?.destroy();
    c.socket.destroy();
  }
}
