// Pure parsers for /proc text. No I/O here, so each is unit-tested on captured text.

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** Clock ticks. */
  utime: number;
  stime: number;
  /** CPU of children this process has waited for (reaped), clock ticks. */
  cutime: number;
  cstime: number;
  /** Clock ticks after boot. */
  starttime: number;
  vsizeBytes: number;
  rssPages: number;
}

/**
 * Parses /proc/PID/stat. The command name is in parentheses and may itself contain spaces
 * and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const f = (n: number): number => Number(rest[n - 3]);
  if (rest.length < 22 || !Number.isInteger(pid)) return undefined;
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: f(4),
    utime: f(14),
    stime: f(15),
    cutime: f(16),
    cstime: f(17),
    starttime: f(22),
    vsizeBytes: f(23),
    rssPages: f(24),
  };
  for (const v of [stat.ppid, stat.utime, stat.stime, stat.cutime, stat.cstime, stat.vsizeBytes, stat.rssPages]) {
    if (!Number.isFinite(v)) return undefined;
  }
  return stat;
}

/** TCP states as numbered in the kernel's include/net/tcp_states.h. */
export const TCP_STATES: Readonly<Record<number, string>> = {
  1: 'established',
  2: 'syn_sent',
  3: 'syn_recv',
  4: 'fin_wait1',
  5: 'fin_wait2',
  6: 'time_wait',
  7: 'close',
  8: 'close_wait',
  9: 'last_ack',
  10: 'listen',
  11: 'closing',
  12: 'new_syn_recv',
};

export interface TcpSocket {
  state: string;
  inode: number;
}

/** Parses /proc/net/tcp or /proc/net/tcp6 (same layout); the header line is skipped. */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const st = parseInt(cols[3] ?? '', 16);
    const inode = Number(cols[9]);
    if (!Number.isFinite(st) || !Number.isFinite(inode)) continue;
    out.push({ state: TCP_STATES[st] ?? 'unknown', inode });
  }
  return out;
}

/** The socket inode a /proc/PID/fd/N link points to ("socket:[12345]"), if it is a socket. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}
