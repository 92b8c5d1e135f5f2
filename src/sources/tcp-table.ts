// The TCP sockets of one network namespace, from /proc/PID/net/tcp and tcp6. I/O only.
//
// Unlike the rest of /proc, these two files are expensive to read however few sockets there
// are: the kernel walks every bucket of its established-connections hash table for each of
// them, and that table is sized by RAM (262,144 buckets on a 24 GiB machine: about 1.65 ms of
// kernel time per walk, measured with both files all but empty; reading a file to its end
// took two walks, see below). So:
// - a table that sockstat proves empty is not read: `sockstat` and `sockstat6` count the
//   namespace's hashed TCP sockets per family (`inuse`: listening, connected, closing; a
//   SYN_RECV request needs a listener of its family) and its TIME_WAIT sockets (`tw`, both
//   families); with both 0 for a family its table has nothing in it. On a host with no IPv6
//   TCP socket (an exporter bound to an IPv4 address, say) that halves the cost;
// - with no IPv6 socket in use but TIME_WAIT sockets about (any host whose programs close
//   connections first), IPv6's table can hold only TIME_WAIT sockets. Then the IPv4
//   table is read first, and IPv6's is skipped when IPv4's holds every TIME_WAIT socket
//   sockstat counts, and sockstat read again after it says the same (`sixIsEmpty`);
// - a table is read without the final read that returns 0 bytes. A read of a seq_file stops at
//   the end of the table or where the next row would overflow the kernel's buffer (a page at
//   least: 4096 bytes), and the kernel answers the read after the end by walking the whole
//   table again from the start (tcp_seq_start finds no saved position past the last bucket),
//   which doubled the cost. So a read that returns at least a row's room short of 4096
//   bytes ends the table (`endsTable`), and only a read that may have stopped at the
//   buffer's edge is followed by another;
// - the tables' first reads are asynchronous and concurrent: the walk happens on libuv's
//   threads while the event loop decodes supervisord's answer and reads the process table
//   (further pages are read in place; readNetTable says why);
// - each namespace's table is read once per collection (collectors/shared-readings.ts),
//   however many collectors and services need it.
import { closeSync, openSync, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { parseProcNetTcp, type TcpSocket } from './proc-parse.js';
import { readProcFile } from './proc-tree.js';

export interface SockstatCounts {
  /** IPv4 and IPv6 TCP sockets in the hash tables (undefined: the line is missing). */
  inuse4?: number;
  inuse6?: number;
  /** TIME_WAIT sockets, both families. */
  tw?: number;
}

/** Parses the TCP lines of /proc/net/sockstat and sockstat6 (either text may be empty). Pure. */
export function parseSockstat(sockstat: string, sockstat6: string): SockstatCounts {
  const out: SockstatCounts = {};
  const v4 = /^TCP: inuse (\d+) orphan \d+ tw (\d+)/m.exec(sockstat);
  if (v4) {
    out.inuse4 = Number(v4[1]);
    out.tw = Number(v4[2]);
  }
  const v6 = /^TCP6: inuse (\d+)/m.exec(sockstat6);
  if (v6) out.inuse6 = Number(v6[1]);
  return out;
}

/** The tables that may hold a socket: a family is skipped only when sockstat proves it empty. Pure. */
export function tablesToRead(c: SockstatCounts): Array<'tcp' | 'tcp6'> {
  const noTimeWait = c.tw === 0;
  const out: Array<'tcp' | 'tcp6'> = [];
  if (!(noTimeWait && c.inuse4 === 0)) out.push('tcp');
  if (!(noTimeWait && c.inuse6 === 0)) out.push('tcp6');
  return out;
}

function readOrEmpty(file: string): string {
  try {
    return readProcFile(file);
  } catch {
    return ''; // no sockstat (or no IPv6): nothing proven, the table is read
  }
}

/** The smallest buffer a seq_file fills per read: PAGE_SIZE, never below 4096. */
const SEQ_BUFFER_MIN = 4096;
/** Longer than any row of tcp (fixed at 150 bytes) or tcp6 (about 150 to 180). */
const ROW_MAX = 512;

/**
 * Whether a read of a /proc/net table that returned `n` bytes reached the table's end: the
 * kernel stops a read short of its buffer only at the end of the table, or when the next row
 * would not fit, which leaves less than a row's room. Pure.
 */
export function endsTable(n: number): boolean {
  return n <= SEQ_BUFFER_MIN - ROW_MAX;
}

const readAsync = promisify(read);

/**
 * The most of one table read: some 220,000 sockets. Past it the table is not read on (its
 * figures are absent): memory and the synchronous parse stay bounded on any host.
 */
export const MAX_TABLE_BYTES = 32 * 1024 * 1024;

/** A /proc/net table's text, read as `endsTable` allows; undefined when it cannot be opened or is over MAX_TABLE_BYTES. */
export async function readNetTable(file: string): Promise<string | undefined> {
  let fd: number;
  try {
    // Opening and closing are cheap (the walk happens in read), so they are not worth a
    // round trip through the thread pool each.
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    // Larger than the kernel's buffer, so each read returns all the kernel has filled.
    const buf = Buffer.allocUnsafe(64 * 1024);
    let text = '';
    for (;;) {
      // The first read goes through the thread pool: for a table of one page (a host with
      // few sockets) it is the only read and holds the whole hash walk. The pages after it
      // are read in place, and they carry the rest of the walk: in isolation 1.6 to 2.9 ms
      // of event-loop time for 100 to 800 rows, against 0.3 to 1.2 ms more latency with
      // every page through the pool. In-process, a round trip per page cost more than that
      // in wake-ups, each waiting for the busy event loop: over 450 interleaved collections
      // with 850 TIME_WAIT sockets, p50 12.9 ms with every page through the pool, 10.4 ms
      // with the first only. A table of a few pages was not measured in-process.
      const bytesRead = text === '' ? (await readAsync(fd, buf, 0, buf.length, null)).bytesRead : readSync(fd, buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      if (text.length + bytesRead > MAX_TABLE_BYTES) return undefined;
      text += buf.toString('latin1', 0, bytesRead);
      if (endsTable(bytesRead)) break;
    }
    return text;
  } catch {
    return undefined;
  } finally {
    try {
      closeSync(fd);
    } catch {
      // nothing to do: the fd is gone either way
    }
  }
}

/**
 * Whether IPv6's table is empty, given sockstat before and after reading IPv4's table and the
 * TIME_WAIT sockets found in it: no IPv6 socket in use at either moment, and every TIME_WAIT
 * socket counted (the same count both times) found among IPv4's. Pure.
 */
export function sixIsEmpty(before: SockstatCounts, after: SockstatCounts, timeWait4: number): boolean {
  return before.inuse6 === 0 && after.inuse6 === 0 && before.tw !== undefined && before.tw === after.tw && before.tw === timeWait4;
}

function sockstatOf(netDir: string): SockstatCounts {
  return parseSockstat(readOrEmpty(`${netDir}/sockstat`), readOrEmpty(`${netDir}/sockstat6`));
}

/** The sockets of tcp and tcp6 under `netDir` (`/proc/PID/net`); undefined when neither can be read. */
export async function readTcpTable(netDir: string): Promise<TcpSocket[] | undefined> {
  const before = sockstatOf(netDir);
  const files = tablesToRead(before);
  if (files.length === 0) return []; // sockstat read and both families empty
  if (files.length === 2 && before.inuse6 === 0) {
    // IPv6 can hold only TIME_WAIT sockets: IPv4 first, then IPv6 only if some are not IPv4's.
    const v4 = await readNetTable(`${netDir}/tcp`);
    const out = v4 === undefined ? [] : parseProcNetTcp(v4);
    let timeWait4 = 0;
    for (const s of out) if (s.state === 'time_wait') timeWait4++;
    if (v4 !== undefined && sixIsEmpty(before, sockstatOf(netDir), timeWait4)) return out;
    const v6 = await readNetTable(`${netDir}/tcp6`);
    if (v4 === undefined && v6 === undefined) return undefined;
    if (v6 !== undefined) for (const s of parseProcNetTcp(v6)) out.push(s);
    return out;
  }
  const texts = await Promise.all(
    // tcp6 is absent when IPv6 is disabled; tcp alone then.
    files.map((f) => readNetTable(`${netDir}/${f}`)),
  );
  if (texts.every((t) => t === undefined)) return undefined;
  const out: TcpSocket[] = [];
  for (const t of texts) if (t !== undefined) for (const s of parseProcNetTcp(t)) out.push(s);
  return out;
}
