// Pure helpers of the host source: name matching, argv[0], TCP state counting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import si from 'systeminformation';
import { argv0Basename, countTcpStates, nameMatches, parseMeminfo, readHostMemory } from '../../src/sources/host.js';
import { parseProcNetTcp } from '../../src/sources/proc-parse.js';

describe('host source helpers', () => {
  it('matches a name exactly or with a version suffix only', () => {
    assert.ok(nameMatches('python', 'python'));
    assert.ok(nameMatches('python', 'python3'));
    assert.ok(nameMatches('python', 'python3.11'));
    assert.ok(!nameMatches('python', 'pythonista'));
    assert.ok(!nameMatches('python', 'ipython3'));
    assert.ok(!nameMatches('python3', 'python'));
    assert.ok(!nameMatches('python', 'python-3'));
  });

  it("takes argv[0]'s base name, also from a setproctitle-style single string", () => {
    assert.equal(argv0Basename('/usr/bin/python3\0main_app.py\0--prod\0'), 'python3');
    assert.equal(argv0Basename('gunicorn: worker [app]'), 'gunicorn:');
    assert.equal(argv0Basename('nginx\0'), 'nginx');
    assert.equal(argv0Basename(''), '');
  });

  it('counts every socket by state, TIME_WAIT sockets (all inode 0) each once', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 13633 1 0000000099aadbb3 100 0 0 10 0',
      '   1: 0100007F:0BB8 0100007F:D1A2 01 00000000:00000000 00:00000000 00000000  1000        0 23096 1 00000000c43ce0ca 20 4 30 10 -1',
      '   2: 0100007F:D1A4 0100007F:0BB8 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000',
      '   3: 0100007F:D1A6 0100007F:0BB8 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000',
      '',
    ].join('\n');
    const tcp6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 20 4 0 10 -1',
      '',
    ].join('\n');
    const c = countTcpStates([...parseProcNetTcp(tcp), ...parseProcNetTcp(tcp6)]);
    assert.equal(c.get('listen'), 1);
    assert.equal(c.get('established'), 2);
    assert.equal(c.get('time_wait'), 2);
    assert.equal(c.get('close_wait'), 0);
    assert.equal(c.size, 12);
  });

  it('reads MemTotal and MemAvailable; used is total − available', () => {
    const m = parseMeminfo('MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   20480000 kB\nBuffers: 1 kB\n');
    assert.deepEqual(m, { totalBytes: 24576000 * 1024, availableBytes: 20480000 * 1024, usedBytes: 4096000 * 1024 });
    assert.throws(() => parseMeminfo('MemTotal: 1 kB\n'), /MemAvailable/);
  });

  it('agrees with systeminformation on this machine', async () => {
    // Both read /proc/meminfo; MemAvailable moves between the two reads, so within 64 MiB.
    const [ours, theirs] = [readHostMemory(), await si.mem()];
    assert.equal(ours.totalBytes, theirs.total);
    assert.ok(Math.abs(ours.availableBytes - theirs.available) < 64 * 1048576, `${ours.availableBytes} vs ${theirs.available}`);
  });
});
