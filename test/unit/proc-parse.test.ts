import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { parseProcNetTcp, parseProcStat, socketInode, TCP_STATES } from '../../src/sources/proc-parse.js';

describe('/proc/PID/stat', () => {
  it('parses the fields the exporter uses', () => {
    const line =
      '4242 (python3) S 1000 4242 4242 0 -1 4194560 12345 0 0 0 873 120 5 7 20 0 3 0 98765 251658240 10240 18446744073709551615 1 1 0 0 0 0 0 16781312 2 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';
    const s = parseProcStat(line);
    assert.deepEqual(s, {
      pid: 4242,
      comm: 'python3',
      state: 'S',
      ppid: 1000,
      utime: 873,
      stime: 120,
      cutime: 5,
      cstime: 7,
      threads: 3,
      starttime: 98765,
      vsizeBytes: 251658240,
      rssPages: 10240,
      majflt: 0,
      cmajflt: 0,
    });
    assert.equal(parseProcStat(line.replace(' 12345 0 0 0 873', ' 12345 3 41 9 873'))?.majflt, 41, 'field 12');
    assert.equal(parseProcStat(line.replace(' 12345 0 0 0 873', ' 12345 3 41 9 873'))?.cmajflt, 9, 'field 13');
  });

  it('survives a command name with spaces and parentheses', () => {
    const line = '77 (evil) (name ) x) R 1 77 77 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 500 1000 5 0';
    const s = parseProcStat(line);
    assert.equal(s?.comm, 'evil) (name ) x');
    assert.equal(s?.state, 'R');
    assert.equal(s?.utime, 10);
    assert.equal(s?.rssPages, 5);
  });

  it('rejects truncated text and fields that are not numbers', () => {
    assert.equal(parseProcStat('12 (x) S 1 2 3'), undefined);
    assert.equal(parseProcStat(''), undefined);
    const good = '9 (x) S 1 9 9 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 500 1000 5';
    assert.equal(parseProcStat(good)?.rssPages, 5, 'exactly 24 fields, no newline');
    assert.equal(parseProcStat(good.slice(0, -2)), undefined, '23 fields');
    assert.equal(parseProcStat(good.replace(' 10 20 ', ' 1x 20 ')), undefined, 'utime 1x');
    assert.equal(parseProcStat(good.replace(' 10 20 ', ' - 20 ')), undefined, 'utime -');
    assert.equal(parseProcStat(good.replace(' 1000 5', ' 1000 5x')), undefined, 'rss 5x');
  });

  it("reads every process of this machine as splitting each line would", () => {
    // The reference: the fields split at spaces after the last ')'.
    const reference = (t: string) => {
      const r = t.slice(t.lastIndexOf(')') + 2).split(' ');
      const f = (n: number): number => Number(r[n - 3]);
      return { state: r[0], ppid: f(4), utime: f(14), stime: f(15), cutime: f(16), cstime: f(17), threads: f(20), starttime: f(22), vsizeBytes: f(23), rssPages: f(24), majflt: f(12), cmajflt: f(13) };
    };
    let seen = 0;
    for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/stat`, 'latin1');
      } catch {
        continue; // exited meanwhile
      }
      const { pid: p, comm, ...got } = parseProcStat(text) ?? assert.fail(`unparsed: ${text}`);
      assert.equal(p, Number(pid));
      assert.equal(comm, text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')));
      assert.deepEqual(got, reference(text));
      seen++;
    }
    assert.ok(seen >= 5);
  });
});

describe('/proc/net/tcp', () => {
  const text = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:9C40 0100007F:0BB8 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C41 0100007F:0BB8 06 00000000:00000000 03:00000A2B 00000000     0        0 0 3 0000000000000000
`;
  it('parses state and inode of every socket', () => {
    assert.deepEqual(parseProcNetTcp(text), [
      { state: 'listen', inode: 1111 },
      { state: 'established', inode: 2222 },
      { state: 'time_wait', inode: 0 },
    ]);
  });
  it('skips rows that are short or not numbers, and reads a last row without a newline', () => {
    const rows = text.trimEnd().split('\n');
    const odd = [rows[0], '', '   7: 0100007F:0BB8', rows[1]?.replace(' 0A ', ' 0G '), rows[2]?.replace(' 2222 ', ' 22x2 '), rows[3]].join('\n');
    assert.deepEqual(parseProcNetTcp(odd), [{ state: 'time_wait', inode: 0 }]);
    assert.deepEqual(parseProcNetTcp(rows[0] as string), []);
    assert.deepEqual(parseProcNetTcp(''), []);
  });

  it("reads this machine's tables as splitting each row would", async () => {
    const reference = (t: string) =>
      t.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)).filter((c) => c.length >= 10).map((c) => ({ state: TCP_STATES[parseInt(c[3] as string, 16)] ?? 'unknown', inode: Number(c[9]) }));
    // A listener, a connection and a TIME_WAIT socket, so every kind of row is there.
    const server = net.createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const held = net.connect(port, '127.0.0.1');
    await once(held, 'connect');
    const closed = net.connect(port, '127.0.0.1');
    await once(closed, 'connect');
    closed.end();
    await once(closed, 'close');
    try {
      const tables = ['/proc/self/net/tcp', '/proc/self/net/tcp6'].flatMap((f) => {
        try {
          return [readFileSync(f, 'latin1')];
        } catch {
          return []; // no IPv6
        }
      });
      for (const t of tables) assert.deepEqual(parseProcNetTcp(t), reference(t));
      const states = new Set(parseProcNetTcp(tables[0] as string).map((s) => s.state));
      for (const s of ['listen', 'established', 'time_wait']) assert.ok(states.has(s), s);
    } finally {
      held.destroy();
      server.close();
    }
  });

  it('reads socket inodes from fd links only', () => {
    assert.equal(socketInode('socket:[98765]'), 98765);
    assert.equal(socketInode('pipe:[1]'), undefined);
    assert.equal(socketInode('/dev/null'), undefined);
  });
});
