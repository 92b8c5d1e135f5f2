// The TCP sockets of one network namespace, from /proc/PID/net/tcp and tcp6. I/O only.
//
// Unlike the rest of /proc, these two files are expensive to read however few sockets there
// are: the kernel walks every bucket of its established-connections hash table for each of
// them, and that table is sized by RAM (262,144 buckets on a 24 GiB machine: about 3.3 ms of
// kernel time per file, measured with both files all but empty). So, unlike proc-tree.ts,
// they are read asynchronously and concurrently: the walk happens on libuv's threads while
// the event loop decodes supervisord's answer and reads the process table, and each
// namespace's table is read once per collection (collectors/shared-readings.ts), however
// many collectors and services need it.
import { readFile } from 'node:fs/promises';
import { parseProcNetTcp, type TcpSocket } from './proc-parse.js';

/** The sockets of tcp and tcp6 under `netDir` (`/proc/PID/net`); undefined when neither can be read. */
export async function readTcpTable(netDir: string): Promise<TcpSocket[] | undefined> {
  const texts = await Promise.all(
    // tcp6 is absent when IPv6 is disabled; tcp alone then.
    ['tcp', 'tcp6'].map((f) => readFile(`${netDir}/${f}`, 'latin1').catch(() => undefined)),
  );
  if (texts.every((t) => t === undefined)) return undefined;
  const out: TcpSocket[] = [];
  for (const t of texts) if (t !== undefined) for (const s of parseProcNetTcp(t)) out.push(s);
  return out;
}
