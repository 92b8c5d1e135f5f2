// fdLinks against this process's real fd table: every open fd's target, sockets included, with
// and without a gap in the table; and treeUsage's reuse of a resting process's fd targets.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fdLinks, ProcReader } from '../../src/sources/proc-tree.js';

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

// treeUsage keeps a process's fd targets while the process has not run (proc-tree.ts says
// why that is exact). First on a /proc tree made of files, where "not run" can be staged;
// then against real processes, where a change must always show on the next reading.
describe('treeUsage: fd targets of a process that has not run', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hostaudit-fdcache-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  function fakeProcess(pid: number, threads: number, runtime: number, fds: string[]): void {
    const dir = path.join(root, String(pid));
    rmSync(path.join(dir, 'fd'), { recursive: true, force: true });
    mkdirSync(path.join(dir, 'fd'), { recursive: true });
    writeFileSync(path.join(dir, 'stat'), `${pid} (x) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 1 1 0 0 20 0 ${threads} 0 777 1000 5 0\n`);
    writeFileSync(path.join(dir, 'schedstat'), `${runtime} 0 1\n`);
    fds.forEach((target, fd) => symlinkSync(target, path.join(dir, 'fd', String(fd))));
  }
  const staged = new ProcReader(root);
  const fdsOf = (pid: number): number | undefined => staged.treeUsage(staged.readProcessTable(), pid)?.openFds;

  it('reads them again when the runtime moved, and always for a process with threads', () => {
    fakeProcess(41, 1, 5000, ['/dev/null', 'socket:[1]']);
    assert.equal(fdsOf(41), 2);
    fakeProcess(41, 1, 5000, ['/dev/null', 'socket:[1]', 'socket:[2]']); // staged: changed without running
    assert.equal(fdsOf(41), 2, 'runtime unchanged: kept');
    fakeProcess(41, 1, 5001, ['/dev/null', 'socket:[1]', 'socket:[2]']);
    assert.equal(fdsOf(41), 3, 'runtime moved: read');

    fakeProcess(42, 2, 9000, ['/dev/null']);
    assert.equal(fdsOf(42), 1);
    fakeProcess(42, 2, 9000, ['/dev/null', '/dev/zero']);
    assert.equal(fdsOf(42), 2, 'two threads: read every time');

    // No schedstat (a kernel without CONFIG_SCHED_INFO): read every time.
    fakeProcess(43, 1, 1, ['/dev/null']);
    rmSync(path.join(root, '43', 'schedstat'));
    assert.equal(fdsOf(43), 1);
    fakeProcess(43, 1, 1, ['/dev/null', '/dev/zero']);
    rmSync(path.join(root, '43', 'schedstat'));
    assert.equal(fdsOf(43), 2);
  });

  const real = new ProcReader();
  const fdsNow = (pid: number): number | undefined => real.treeUsage(real.readProcessTable(), pid)?.openFds;

  /** Runs `code` in python3 until it prints a line, then `body` with its pid; kills it after. */
  async function withPython(code: string, body: (pid: number) => Promise<void>): Promise<void> {
    const p = spawn('python3', ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(p.stdout, 'data');
      await body(p.pid as number);
    } finally {
      p.kill();
    }
  }

  async function fdsSettle(pid: number, want: number): Promise<number | undefined> {
    let got: number | undefined;
    for (let i = 0; i < 100 && got !== want; i++) {
      got = fdsNow(pid);
      if (got !== want) await new Promise((r) => setTimeout(r, 20));
    }
    return got;
  }

  it('sees the fds a real single-threaded process opens once it has run', async () => {
    // Opens two files on each SIGUSR1, and sleeps in between.
    const code =
      "import os, signal\nkeep = []\nsignal.signal(signal.SIGUSR1, lambda *a: keep.extend([os.open('/dev/null', os.O_RDONLY), os.open('/dev/null', os.O_RDONLY)]))\nprint('ready', flush=True)\nwhile True: signal.pause()";
    await withPython(code, async (pid) => {
      const before = fdsNow(pid) as number;
      assert.equal(fdsNow(pid), before, 'idle: the same');
      for (let round = 1; round <= 3; round++) {
        process.kill(pid, 'SIGUSR1');
        assert.equal(await fdsSettle(pid, before + 2 * round), before + 2 * round, `after signal ${round}`);
      }
    });
  });

  it("sees the fds a thread opens while the process's main thread sleeps", async () => {
    const code =
      "import os, threading, time\ndef later():\n    time.sleep(0.3)\n    keep = [os.open('/dev/null', os.O_RDONLY) for _ in range(5)]\n    time.sleep(60)\nt = threading.Thread(target=later)\nt.start()\nprint('ready', flush=True)\nt.join()";
    await withPython(code, async (pid) => {
      const before = fdsNow(pid) as number;
      assert.equal(await fdsSettle(pid, before + 5), before + 5);
    });
  });
});
