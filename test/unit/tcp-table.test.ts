// Which TCP tables must be read: a family's table is skipped only when sockstat proves it
// empty; a table is read without the read after its end; and, against this machine's kernel,
// both shortcuts give what reading the files to their end gives.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { parseProcNetTcp } from '../../src/sources/proc-parse.js';
import { endsTable, parseSockstat, readNetTable, readTcpTable, sixIsEmpty, tablesToRead } from '../../src/sources/tcp-table.js';

const SOCKSTAT = 'sockets: used 8\nTCP: inuse 3 orphan 0 tw 0 alloc 4 mem 1\nUDP: inuse 0 mem 0\n';
const SOCKSTAT6 = 'TCP6: inuse 0\nUDP6: inuse 0\n';

describe('tablesToRead', () => {
  it('parses the TCP lines of sockstat and sockstat6', () => {
    assert.deepEqual(parseSockstat(SOCKSTAT, SOCKSTAT6), { inuse4: 3, tw: 0, inuse6: 0 });
    assert.deepEqual(parseSockstat('', ''), {});
  });

  it('skips a family only with no socket of it in use and no TIME_WAIT socket at all', () => {
    assert.deepEqual(tablesToRead({ inuse4: 3, tw: 0, inuse6: 0 }), ['tcp']);
    assert.deepEqual(tablesToRead({ inuse4: 3, tw: 2, inuse6: 0 }), ['tcp', 'tcp6']); // a v6 TIME_WAIT may be among them
    assert.deepEqual(tablesToRead({ inuse4: 0, tw: 0, inuse6: 1 }), ['tcp6']);
    assert.deepEqual(tablesToRead({ inuse4: 0, tw: 0, inuse6: 0 }), []);
    // Nothing proven for a family (no sockstat, no IPv6 line): its table is read.
    assert.deepEqual(tablesToRead({}), ['tcp', 'tcp6']);
    assert.deepEqual(tablesToRead({ inuse4: 0, tw: 0 }), ['tcp6']);
  });

  it("skips IPv6's table when IPv4's holds every TIME_WAIT socket and sockstat did not move", () => {
    const c = { inuse4: 3, inuse6: 0, tw: 5 };
    assert.equal(sixIsEmpty(c, c, 5), true);
    assert.equal(sixIsEmpty(c, c, 4), false, 'one TIME_WAIT socket is IPv6');
    assert.equal(sixIsEmpty(c, { ...c, tw: 6 }, 5), false, 'a TIME_WAIT socket came meanwhile');
    assert.equal(sixIsEmpty(c, { ...c, inuse6: 1 }, 5), false, 'an IPv6 socket came meanwhile');
    assert.equal(sixIsEmpty({ inuse4: 3, tw: 5 }, { inuse4: 3, tw: 5 }, 5), false, 'no sockstat6: nothing proven');
  });
});

function direct(dir: string): string[] {
  const out: string[] = [];
  for (const f of ['tcp', 'tcp6']) {
    try {
      for (const s of parseProcNetTcp(readFileSync(`${dir}/${f}`, 'latin1'))) out.push(`${s.state}:${s.inode}`);
    } catch {
      // no IPv6
    }
  }
  return out.sort();
}

/** Opens a connection to `server` and closes it from the client side: a TIME_WAIT socket remains. */
async function timeWait(server: net.Server, host: string): Promise<void> {
  const c = net.connect((server.address() as net.AddressInfo).port, host);
  await new Promise<void>((r) => c.once('connect', () => r()));
  c.end();
  await new Promise<void>((r) => c.once('close', () => r()));
}

function timeWaitRows(file: string): number {
  try {
    return parseProcNetTcp(readFileSync(file, 'latin1')).filter((s) => s.state === 'time_wait').length;
  } catch {
    return 0;
  }
}

async function sameAsDirect(): Promise<void> {
  // Sockets of other programs may come and go between the two reads: agree once in twenty tries.
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    const got = ((await readTcpTable('/proc/self/net')) ?? []).map((s) => `${s.state}:${s.inode}`).sort();
    const want = direct('/proc/self/net');
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    last = { got, want };
  }
  assert.fail(`readTcpTable never matched the tables: ${JSON.stringify(last)}`);
}

describe('readTcpTable against the kernel', () => {
  it('equals reading tcp and tcp6, with IPv4 sockets only and with IPv6 ones', async () => {
    const v4 = net.createServer();
    await new Promise<void>((r) => v4.listen(0, '127.0.0.1', r));
    try {
      await sameAsDirect();
      await timeWait(v4, '127.0.0.1');
      assert.ok(timeWaitRows('/proc/self/net/tcp') >= 1);
      await sameAsDirect();
      const v6 = net.createServer();
      const listening = await new Promise<boolean>((r) => {
        v6.once('error', () => r(false));
        v6.listen(0, '::1', () => r(true));
      });
      try {
        if (listening) {
          // An IPv6 TIME_WAIT socket with no IPv6 socket left in use: the table IPv6 must
          // still be read for (sockstat counts it only among all TIME_WAIT sockets).
          await timeWait(v6, '::1');
          await new Promise<void>((r) => v6.close(() => r()));
          assert.ok(timeWaitRows('/proc/self/net/tcp6') >= 1);
          await sameAsDirect();
          await new Promise<void>((r) => v6.listen(0, '::1', r));
          const c = net.connect((v6.address() as net.AddressInfo).port, '::1');
          await new Promise<void>((r) => c.once('connect', () => r()));
          await sameAsDirect();
          assert.ok(direct('/proc/self/net').length >= 3);
          c.destroy();
        }
      } finally {
        if (v6.listening) v6.close();
      }
    } finally {
      v4.close();
    }
  });
});

/** A table with each row's timer field (`tr:tm->when`) blanked. */
function untimed(table: string): string {
  return table.replace(/^(\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+)\S+/gm, '$1-');
}

describe('readNetTable: no read after the end of a table', () => {
  it('takes a read that stops a row short of the kernel buffer as the end, and no other', () => {
    assert.equal(endsTable(145), true); // tcp6's header alone
    assert.equal(endsTable(1950), true);
    assert.equal(endsTable(3584), true);
    assert.equal(endsTable(3585), false);
    assert.equal(endsTable(4050), false); // 27 rows of 150 bytes: a full page, read on
  });

  it('reads what reading to the end reads, whatever the table ends on', async () => {
    // One listener more at a time, so that the IPv4 table's last read ends on many offsets
    // within the kernel's 4096-byte buffer (rows are 150 bytes), a full one included. Other
    // programs' sockets come and go too (TIME_WAIT ones expire): on until both were seen.
    const servers: net.Server[] = [];
    const ends = new Set<number>();
    try {
      while ((!ends.has(0) || ends.size < 20) && servers.length < 400) {
        const s = net.createServer();
        await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
        servers.push(s);
        let agreed = false;
        let last = '';
        for (let attempt = 0; attempt < 20 && !agreed; attempt++) {
          // A socket of another program may change between the two reads: try again.
          const got = await readNetTable('/proc/self/net/tcp');
          const want = readFileSync('/proc/self/net/tcp', 'latin1');
          // Same bytes, but for the timers of TIME_WAIT sockets, which tick between the reads.
          agreed = got?.length === want.length && untimed(got) === untimed(want);
          if (agreed) ends.add(want.length % 4050);
          else last = `${got?.length} bytes read, ${want.length} in the file`;
        }
        assert.ok(agreed, `readNetTable differs from the file with ${servers.length} extra listeners: ${last}`);
      }
    } finally {
      for (const s of servers) s.close();
    }
    assert.ok(ends.has(0), 'a table that ends on a full buffer was read');
    assert.ok(ends.size >= 20, `${ends.size} offsets`);
    assert.equal(await readNetTable('/proc/self/net/no-such-table'), undefined);
  });
});
