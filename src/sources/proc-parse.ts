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
  /** Threads in the process (field 20). */
  threads: number;
  vsizeBytes: number;
  rssPages: number;
  /** Major page faults of the process (field 12) and of its reaped children (field 13). */
  majflt: number;
  cmajflt: number;
}

/** Fields 3 to 24 of the stat line being parsed (index = field number); reused, never returned. */
const statFields = new Float64Array(25);

/**
 * Parses /proc/PID/stat. The command name is in parentheses and may itself contain spaces
 * and parentheses, so fields are counted from the last ')'. The numbers are read in place,
 * without splitting the line: a scrape of a host with a thousand processes parses a thousand
 * lines, and split() made some fifty strings of each.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const head = text.slice(0, open).trim();
  // Digits only: Number() would also take '', '0x1f' or '1e3'.
  if (!/^[0-9]{1,10}$/.test(head)) return undefined;
  const pid = Number(head);
  // Field 3 (state) starts two characters after ')'; fields are separated by one space.
  let i = close + 2;
  const stateEnd = text.indexOf(' ', i);
  if (stateEnd < 0) return undefined;
  const state = text.slice(i, stateEnd);
  i = stateEnd + 1;
  let field = 4;
  for (; field <= 24 && i < text.length; field++) {
    let n = 0;
    let digits = 0;
    let negative = false;
    if (text.charCodeAt(i) === 45) {
      negative = true; // '-': nice, priority and a few others may be negative
      i++;
    }
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      digits++;
    }
    const end = i === text.length || text.charCodeAt(i) === 32 || text.charCodeAt(i) === 10;
    statFields[field] = digits > 0 && end ? (negative ? -n : n) : NaN;
    while (i < text.length && text.charCodeAt(i) !== 32) i++; // a malformed field ends at the next space
    i++;
  }
  if (field <= 24) return undefined; // fewer than 24 fields
  const f = statFields;
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state,
    ppid: f[4] as number,
    utime: f[14] as number,
    stime: f[15] as number,
    cutime: f[16] as number,
    cstime: f[17] as number,
    threads: f[20] as number,
    starttime: f[22] as number,
    vsizeBytes: f[23] as number,
    rssPages: f[24] as number,
    majflt: f[12] as number,
    cmajflt: f[13] as number,
  };
  // The kernel prints these unsigned: a sign or a malformed field means the line is not a stat line.
  for (const v of [stat.ppid, stat.utime, stat.stime, stat.cutime, stat.cstime, stat.threads, stat.starttime, stat.vsizeBytes, stat.rssPages, stat.majflt, stat.cmajflt]) {
    if (!Number.isFinite(v) || v < 0) return undefined;
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

/**
 * Parses /proc/net/tcp or /proc/net/tcp6 (same layout); the header line is skipped. Reads
 * the state (column 4, hex) and inode (column 10) of each row in place: a host with hundreds
 * of TIME_WAIT sockets has as many rows per scrape, and splitting each made 17 strings.
 */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  const n = text.length;
  let i = text.indexOf('\n'); // end of the header
  if (i < 0) return out;
  while (i < n) {
    i++; // past the newline
    let col = 0;
    let st = NaN;
    let inode = NaN;
    // Columns are separated by runs of spaces; a row ends at a newline.
    while (i < n) {
      let c = text.charCodeAt(i);
      while (c === 32) c = text.charCodeAt(++i);
      if (i >= n || c === 10) break;
      const from = i;
      let v = 0;
      let ok = true;
      for (; i < n; i++) {
        c = text.charCodeAt(i);
        if (c === 32 || c === 10) break;
        if (col === 3) {
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
          if (d < 0) ok = false;
          v = v * 16 + d;
        } else if (col === 9) {
          if (c < 48 || c > 57) ok = false;
          v = v * 10 + (c - 48);
        }
      }
      if (col === 3) st = ok && i > from ? v : NaN;
      else if (col === 9) inode = ok && i > from ? v : NaN;
      col++;
    }
    // Rows with fewer than 10 columns, or a state or inode that is not a number, are skipped.
    if (col >= 10 && Number.isFinite(st) && Number.isFinite(inode)) out.push({ state: TCP_STATES[st] ?? 'unknown', inode });
  }
  return out;
}

/** The socket inode a /proc/PID/fd/N link points to ("socket:[12345]"), if it is a socket. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}
