// fdLinks against this process's real fd table: every open fd's target, sockets included, with
// and without a gap in the table.
import assert from 'node:assert/strict';
import { closeSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { fdLinks } from '../../src/sources/proc-tree.js';

// /proc/self is the thread reading it; /proc/PID/fd is the process's table, the same for all.
const DIR = `/proc/${process.pid}/fd`;

function listed(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(DIR)) {
    try {
      out.push(readlinkSync(`${DIR}/${fd}`));
    } catch {
      // the listing's own directory fd, closed again
    }
  }
  return out.sort();
}

describe('fdLinks', () => {
  it('gives the targets of every open fd, sockets included', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const got = (fdLinks(DIR) ?? []).sort();
      assert.deepEqual(got, listed());
      assert.ok(got.some((l) => /^socket:\[\d+\]$/.test(l)));
    } finally {
      server.close();
    }
  });

  it('finds every fd when the table has a gap', () => {
    const fds = Array.from({ length: 6 }, () => openSync('/dev/null', 'r'));
    closeSync(fds[1] as number); // a hole below the highest fd
    try {
      const got = (fdLinks(DIR) ?? []).sort();
      assert.deepEqual(got, listed());
      assert.equal(got.filter((l) => l === '/dev/null').length, listed().filter((l) => l === '/dev/null').length);
    } finally {
      for (const fd of fds) if (fd !== fds[1]) closeSync(fd);
    }
  });

  it('is undefined for a process that does not exist', () => {
    assert.equal(fdLinks('/proc/999999999/fd'), undefined);
  });
});
