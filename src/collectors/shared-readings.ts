// Readings more than one collector needs, read once per collection through the context memo.
import type { TcpSocket } from '../sources/proc-parse.js';
import { netNamespace, ProcReader, type ProcessTable } from '../sources/proc-tree.js';
import { readTcpTable } from '../sources/tcp-table.js';
import type { CollectContext } from './collector.js';

type Memo = Pick<CollectContext, 'memo'>;

const PROCESS_TABLE = 'process-table';

/** The /proc process table of this collection: the first collector to ask reads it. */
export function processTable(ctx: Memo, proc: ProcReader = new ProcReader()): ProcessTable {
  const hit = ctx.memo?.get(PROCESS_TABLE) as ProcessTable | undefined;
  if (hit) return hit;
  const table = proc.readProcessTable();
  ctx.memo?.set(PROCESS_TABLE, table);
  return table;
}

/**
 * One network namespace's TCP sockets, read through `netDir` at most once per collection
 * (sources/tcp-table.ts says why that read is costly). Keyed by the namespace's identity, so
 * the host collector and every supervised service in the same namespace share one read.
 */
function tcpOf(ctx: Memo, key: string, netDir: string): Promise<TcpSocket[] | undefined> {
  const k = `tcp:${key}`;
  const hit = ctx.memo?.get(k) as Promise<TcpSocket[] | undefined> | undefined;
  if (hit) return hit;
  const p = readTcpTable(netDir);
  ctx.memo?.set(k, p);
  return p;
}

/**
 * Host-wide TCP sockets: PID 1's view of the network, which is the host's also in a container
 * started with `pid: host` (where /proc/net would show only the container's own sockets);
 * our own namespace when PID 1's cannot be read.
 */
export async function hostTcp(ctx: Memo, procRoot = '/proc'): Promise<TcpSocket[]> {
  const ns = netNamespace(1, procRoot);
  const pid1 = await tcpOf(ctx, ns ?? 'pid1', `${procRoot}/1/net`);
  if (pid1) return pid1;
  const self = await tcpOf(ctx, 'self', `${procRoot}/self/net`);
  if (self) return self;
  throw new Error(`cannot read ${procRoot}/1/net/tcp or ${procRoot}/self/net/tcp`);
}

/** TCP sockets of the namespace `pid` lives in, through /proc/PID/net; undefined when unreadable. */
export function namespaceTcp(ctx: Memo, pid: number, procRoot = '/proc'): Promise<TcpSocket[] | undefined> {
  const ns = netNamespace(pid, procRoot);
  return ns === undefined ? tcpOf(ctx, 'self', `${procRoot}/self/net`) : tcpOf(ctx, ns, `${procRoot}/${pid}/net`);
}
