// A walker thread of WalkerPool (dir-scan.ts): for each scan, walks the directories it is
// given, hands one back when another walker is idle, and posts its counts when told to finish.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { Walker, WALKER_NICE, type FromWorker, type ToWorker } from './dir-scan.js';

// A walk is background work: this thread alone runs at a lower priority, so the exporter's
// event loop (scrapes) and the host's own services win the CPU when they need it. On Linux
// setpriority(PRIO_PROCESS, tid) applies to one thread; /proc/thread-self names this one.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) setPriority(tid, WALKER_NICE);
} catch {
  // not Linux, or no /proc: the walk runs at normal priority
}

let walker: Walker | undefined;
let hungry: Int32Array<ArrayBufferLike> = new Int32Array(1);

/** Claims one unit of another walker's hunger; true when this walker should hand work over. */
function wantsWork(): boolean {
  const h = Atomics.load(hungry, 0);
  return h > 0 && Atomics.compareExchange(hungry, 0, h, h - 1) === h;
}

const port = parentPort;
port?.on('message', (msg: ToWorker) => {
  if (msg.type === 'begin') {
    walker = new Walker(msg.cutoffs, msg.within);
    hungry = new Int32Array(msg.hungry);
  } else if (msg.type === 'task') {
    const ok = (walker as Walker).run(msg.task, wantsWork, (task) => port.postMessage({ type: 'task', task } satisfies FromWorker));
    port.postMessage({ type: 'idle', ...(ok ? {} : { rootFailed: true }) } satisfies FromWorker);
  } else {
    port.postMessage({ type: 'result', counts: (walker as Walker).finish() } satisfies FromWorker);
    walker = undefined; // the scan's memory goes with it
  }
});
