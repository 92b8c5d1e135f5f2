// The host collector against the real kernel: TCP connections opened here and counted by
// state (IPv4 and IPv6, TIME_WAIT included), processes started here and counted by name,
// memory compared with /proc/meminfo.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HostCollector } from '../src/collectors/host.js';
import type { MetricFamily } from '../src/collectors/metric-family.js';
import { silentLogger } from '../src/log.js';
import { sleep } from './helpers/supervisord.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

// Other tests run on this machine at the same time and open and close sockets of their own;
// the counts compared here move by hundreds, so this much noise cannot hide a wrong count.
const NOISE = 40;

async function collect(names: string[] = []): Promise<MetricFamily[]> {
  return new HostCollector(names).collect({ signal: new AbortController().signal, log: silentLogger });
}

function sample(fams: MetricFamily[], name: string, labels: Record<string, string>): number | undefined {
  const f = fams.find((x) => x.name === name);
  return f?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function tcp(fams: MetricFamily[], state: string): number {
  const v = sample(fams, 'hostaudit_host_tcp_connections', { state });
  assert.ok(v !== undefined, `state ${state} present`);
  return v;
}

async function openConnections(host: string, port: number, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host, port }, () => resolve(s));
        s.once('error', reject);
      }),
    );
  }
  return out;
}

function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

describe('host collector', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  before(() => {
    dir = makeTmpDir('hostaudit-host-');
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    removeTmpDir(dir);
  });

  it('counts TCP connections opened by the test, IPv4 and IPv6, and TIME_WAIT after they close', async () => {
    const has6 = await ipv6Loopback();
    const accepted: net.Socket[] = [];
    const server4 = net.createServer((s) => accepted.push(s));
    const server6 = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server4.listen(0, '127.0.0.1', r));
    if (has6) await new Promise<void>((r) => server6.listen(0, '::1', r));
    try {
      const before = await collect();
      const n4 = 150;
      const n6 = has6 ? 50 : 0;
      const clients = [
        ...(await openConnections('127.0.0.1', (server4.address() as net.AddressInfo).port, n4)),
        ...(has6 ? await openConnections('::1', (server6.address() as net.AddressInfo).port, n6) : []),
      ];
      for (let i = 0; i < 500 && accepted.length < n4 + n6; i++) await sleep(20);
      assert.equal(accepted.length, n4 + n6, 'server accepted every connection');
      const during = await collect();
      // both ends of a loopback connection are sockets of this host
      const opened = tcp(during, 'established') - tcp(before, 'established');
      assert.ok(Math.abs(opened - 2 * (n4 + n6)) <= NOISE, `established grew by ${opened}, expected ${2 * (n4 + n6)}`);
      assert.ok(tcp(during, 'listen') >= 1 + (has6 ? 1 : 0));

      // The client closes first, so its side waits in TIME_WAIT (inode 0 for all of them:
      // counting by inode would see one).
      for (const s of accepted) s.on('end', () => s.end());
      await Promise.all(clients.map((c) => new Promise<void>((r) => c.end(() => r()))));
      await sleep(300);
      const closed = await collect();
      const tw = tcp(closed, 'time_wait') - tcp(during, 'time_wait');
      assert.ok(tw >= n4 + n6 - NOISE, `time_wait grew by ${tw}, expected about ${n4 + n6}`);
      const gone = tcp(during, 'established') - tcp(closed, 'established');
      assert.ok(Math.abs(gone - 2 * (n4 + n6)) <= NOISE, `established fell by ${gone}`);
    } finally {
      for (const s of accepted) s.destroy();
      server4.close();
      server6.close();
    }
  });

  it('has a series for every TCP state, zeros included', async () => {
    const fams = await collect();
    const states = fams.find((f) => f.name === 'hostaudit_host_tcp_connections')?.samples.map((s) => s.labels.state);
    for (const s of ['established', 'syn_sent', 'time_wait', 'close_wait', 'listen', 'fin_wait1', 'last_ack']) {
      assert.ok(states?.includes(s), `${s} present`);
    }
  });

  it('counts processes by comm and by argv[0] base name, with version suffixes, never prefixes', async () => {
    const tag = `ha${process.pid}`;
    const link = (name: string): string => {
      const p = path.join(dir, name);
      symlinkSync('/bin/sleep', p);
      return p;
    };
    const start = (file: string, argv0?: string): void => {
      const c = spawn(file, ['300'], { stdio: 'ignore', ...(argv0 ? { argv0 } : {}) });
      children.push(c);
    };
    // comm is the executable's name: 3 by comm
    const plain = link(`${tag}svc`);
    for (let i = 0; i < 3; i++) start(plain);
    // comm "sleep", argv[0] rewritten: 2 by argv[0] only
    for (let i = 0; i < 2; i++) start('/bin/sleep', `/opt/bin/${tag}svc`);
    // version suffix counts under the bare name
    start(link(`${tag}svc3.11`));
    // a longer name that merely starts with it does not
    start(link(`${tag}svcbox`));
    // a name longer than comm's 15 characters matches through argv[0]
    const long = `${tag}_unified_production_coordinator`;
    start(link(long));
    // spawn() returns once exec has happened (libuv waits for it), so comm and argv are final.
    await Promise.all(children.map((c) => new Promise((r) => c.once('spawn', r))));
    const fams = await collect([`${tag}svc`, long, `${tag}absent`]);
    assert.equal(sample(fams, 'hostaudit_host_processes', { name: `${tag}svc` }), 6);
    assert.equal(sample(fams, 'hostaudit_host_processes', { name: long }), 1);
    assert.equal(sample(fams, 'hostaudit_host_processes', { name: `${tag}absent` }), 0);
    // Once Node has seen them exit they are gone (or zombies, which are not counted).
    await Promise.all(children.splice(0).map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')))));
    const after = await collect([`${tag}svc`]);
    assert.equal(sample(after, 'hostaudit_host_processes', { name: `${tag}svc` }), 0);
  });

  it('reports no process series without process_names', async () => {
    const fams = await collect();
    assert.equal(fams.find((f) => f.name === 'hostaudit_host_processes'), undefined);
  });

  it('reports memory as /proc/meminfo has it: used = total − available', async () => {
    const fams = await collect();
    const meminfo = readFileSync('/proc/meminfo', 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1]) * 1024;
    const total = sample(fams, 'hostaudit_host_memory_bytes', { kind: 'total' });
    const available = sample(fams, 'hostaudit_host_memory_bytes', { kind: 'available' }) as number;
    const used = sample(fams, 'hostaudit_host_memory_bytes', { kind: 'used' });
    assert.equal(total, kb('MemTotal'));
    // read a moment apart from ours: allow 5 % of total for other tests allocating
    assert.ok(Math.abs(available - kb('MemAvailable')) < 0.05 * kb('MemTotal'), `available ${available} vs ${kb('MemAvailable')}`);
    assert.equal(used, (total as number) - available);
  });
});
