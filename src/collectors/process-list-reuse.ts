// Whether a process list supervisord gave earlier still describes its processes, judged from
// /proc alone. Pure: the readings come in, a yes or no goes out.
//
// Why: supervisord builds getAllProcessInfo in Python, one struct per process: cheap for a dozen
// services, costly for hundreds (docs/performance.md, "Scrape cost and scale"), paid by
// supervisord on every scrape and, on the scrape's critical path, more than the whole scrape
// budget. Every change that matters starts or ends a process under supervisord (a start, a
// crash, an exit, a restart, a stop once it completes), and each such change shows in /proc
// at once: a new child of supervisord, a pid gone or turned zombie, a pid with another start
// time. So while /proc shows exactly the processes the list says are RUNNING, and no process
// is in a passing state (STARTING, BACKOFF, STOPPING, whose next state comes with time, not
// with a process), the list is still true; the caller bounds its age as well.
import type { ProcessTable } from '../sources/proc-tree.js';
import type { SupervisorProcess } from '../sources/supervisor.js';

/** States that change only together with a process starting or ending under supervisord. */
const SETTLED = new Set(['RUNNING', 'STOPPED', 'EXITED', 'FATAL']);

/**
 * supervisord's `start` is its clock when it spawned the process (whole seconds), /proc's
 * start time is boot time (whole seconds) plus ticks: they agree within two seconds.
 */
const START_SLACK_S = 3;

export interface KnownList {
  /** supervisord's pid when the list was taken. */
  pid: number;
  processes: readonly SupervisorProcess[];
}

export function listStillCurrent(list: KnownList, table: ProcessTable, bootTimeSeconds: number, clockTicks: number): boolean {
  const sup = table.byPid.get(list.pid);
  if (!sup || sup.state === 'Z') return false; // not supervisord's pid namespace, or supervisord is gone
  let running = 0;
  for (const p of list.processes) {
    if (!SETTLED.has(p.state)) return false;
    if (p.state !== 'RUNNING') {
      if (p.pid > 0) return false; // supervisord reports pid 0 for a process not running
      continue;
    }
    const st = table.byPid.get(p.pid);
    if (!st || st.state === 'Z' || st.ppid !== list.pid) return false;
    if (Math.abs(bootTimeSeconds + st.starttime / clockTicks - p.start) > START_SLACK_S) return false; // pid reused
    running++;
  }
  // Any other child of supervisord is a process the list does not know: a start under way.
  let children = 0;
  for (const pid of table.children.get(list.pid) ?? []) {
    const st = table.byPid.get(pid);
    if (!st) continue;
    if (st.state === 'Z') return false; // exited, not reaped yet: supervisord is about to change the list
    children++;
  }
  return children === running;
}

/**
 * Whether supervisord's own process (`pid`) is in `table` and can be at work on an answer:
 * neither a zombie nor stopped (a SIGSTOP, a debugger). Pure.
 */
export function supervisordAtWork(table: ProcessTable, pid: number): boolean {
  const st = table.byPid.get(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'T' && st.state !== 't' && st.state !== 'X';
}

/**
 * Whether every pid of `pids` is listed in `children`: the text of /proc/PID/task/TID/children,
 * the kernel's list of a thread's children (pids separated by spaces). Pure.
 */
export function childrenInclude(children: string, pids: ReadonlySet<number>): boolean {
  let found = 0;
  let n = -1;
  for (let i = 0; i <= children.length; i++) {
    const c = i < children.length ? children.charCodeAt(i) : 32;
    if (c >= 48 && c <= 57) {
      // Past any pid (pid_max is at most 2^22): not a pid, whatever follows.
      n = n < 0 ? c - 48 : n > 0x7fffffff ? n : n * 10 + (c - 48);
    } else {
      if (n >= 0 && pids.has(n)) found++;
      n = -1;
    }
  }
  return found >= pids.size;
}
