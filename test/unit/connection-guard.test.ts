// ConnectionGuard on a real Node HTTP server in process: eviction at the cap, the pipelined
// burst and in-flight bounds, and the silent-connection timeout.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { ConnectionGuard, type ConnectionGuardOptions } from '../../src/http/connection-guard.js';

async function serve(opts: ConnectionGuardOptions, handler: http.RequestListener) {
  const guard = new ConnectionGuard(opts);
  const server = http.createServer(guard.wrap(handler));
  guard.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const close = (): Promise<void> => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  };
  return { guard, port, close };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => undefined);
  });
}

const closed = (s: net.Socket): Promise<void> => (s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r())));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ConnectionGuard', () => {
  it('at the cap closes the connection idle longest, so a new client gets in', async () => {
    const { guard, port, close } = await serve({ maxConnections: 3 }, (_q, r) => r.end('ok'));
    const idle = [await connect(port), await connect(port), await connect(port)];
    await until(() => guard.size === 3);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await res.text(), 'ok');
    await closed(idle[0] as net.Socket);
    assert.equal(guard.closed.capacity, 1);
    for (const s of idle) s.destroy();
    await close();
  });

  it('at the cap with every connection busy, closes the newcomer', async () => {
    const held: http.ServerResponse[] = [];
    const { guard, port, close } = await serve({ maxConnections: 2 }, (_q, r) => void held.push(r));
    const busy = [await connect(port), await connect(port)];
    for (const s of busy) s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => held.length === 2);
    const late = await connect(port);
    await closed(late);
    assert.equal(guard.closed.capacity, 1);
    assert.ok(busy.every((s) => !s.destroyed));
    for (const r of held) r.end();
    for (const s of busy) s.destroy();
    await close();
  });

  it('closes a connection that pipelines a burst; the rest of its chunk never reaches the handler', async () => {
    let calls = 0;
    const { guard, port, close } = await serve({ maxConnections: 10, maxBurst: 8, maxInFlight: 100 }, (_q, r) => {
      calls++;
      r.end('x');
    });
    const s = await connect(port);
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2000));
    s.resume();
    await closed(s);
    assert.equal(guard.closed.burst, 1);
    assert.ok(calls <= 8, `handler called ${calls} times`);
    await close();
  });

  it('closes a connection with too many unanswered requests', async () => {
    const held: http.ServerResponse[] = [];
    const { guard, port, close } = await serve({ maxConnections: 10, maxInFlight: 2, maxBurst: 100 }, (_q, r) => void held.push(r));
    const s = await connect(port);
    for (let i = 0; i < 3; i++) {
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((r) => setTimeout(r, 50));
    }
    await closed(s);
    assert.equal(guard.closed.in_flight, 1);
    assert.equal(held.length, 2);
    await close();
  });

  it('closes a connection that never starts a request', async () => {
    const { guard, port, close } = await serve({ maxConnections: 10, firstRequestMs: 300, sweepMs: 100 }, (_q, r) => r.end());
    const s = await connect(port);
    await closed(s);
    assert.equal(guard.closed.silent, 1);
    await close();
  });
});
