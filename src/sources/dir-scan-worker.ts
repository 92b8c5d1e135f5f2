// A walker thread of WalkerPool (walker-pool.ts): for each scan, walks the directories it is
// given, hands one back when another walker is idle, and posts its counts when told to finish.
// A cancelled scan's walker closes what it holds and answers idle to every task still sent.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { closeQuietly } from './dir-relative.js';
import { Walker } from './dir-walker.js';
import { WALKER_NICE, type FromWorker, type ToWorker } from './walker-pool.js';

// A walk is background work: this thread alone runs at a lower priority, so the exporter's
// event loop (scrapes) and the host's own services win the CPU when they need it. On Linux
// setpriority(PRIO_PROCESS, tid) applies to one thread; /proc/thread-self names this one.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) setPriority(tid, WALKER_NICE);
} catch (err) {
  if (!(err as NodeJS.ErrnoException).code) throw err; // not Linux, or no /proc: the walk runs at normal priority
}

let walker: Walker | undefined;
let hungry: Int32Array<ArrayBufferLike> = new Int32Array(1);
let cancel: Int32Array<ArrayBufferLike> = new Int32Array(1);

/** Claims one unit of another walker's hunger; true when this walker should hand work over. */
function wantsWork(): boolean {
  const h = Atomics.load(hungry, 0);
  return h > 0 && Atomics.compareExchange(hungry, 0, h, h - 1) === h;
}

const cancelled = (): boolean => Atomics.load(cancel, 0) !== 0;

const port = parentPort;
port?.on('message', (msg: ToWorker) => {
  if (msg.type === 'begin') {
    walker = new Walker(msg.cutoffs, msg.within);
    hungry = new Int32Array(msg.hungry);
    cancel = new Int32Array(msg.cancel);
  } else if (msg.type === 'task') {
    if (cancelled() || !walker) {
      if (msg.task.fd !== undefined) closeQuietly(msg.task.fd);
      port.postMessage({ type: 'idle' } satisfies FromWorker);
      return;
    }
    const ok = walker.run(msg.task, wantsWork, (task) => port.postMessage({ type: 'task', task } satisfies FromWorker), cancelled);
    port.postMessage({ type: 'idle', ...(ok ? {} : { rootFailed: true }) } satisfies FromWorker);
  } else {
    if (walker) port.postMessage({ type: 'result', counts: walker.finish() } satisfies FromWorker);
    walker = undefined; // the scan's memory goes with it
  }
});
