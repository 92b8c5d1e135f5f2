// bcrypt comparisons in one worker thread, in order, with a bounded queue: a flood of guesses
// costs at most one core and a fixed amount of memory, and never runs on the event loop.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CompareAnswer, CompareRequest } from './bcrypt-worker.js';

/** The worker next to this file, .ts under tsx (tests) or .js when built. */
const WORKER_FILE = new URL(`./bcrypt-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

function startWorker(): Worker {
  if (!WORKER_FILE.pathname.endsWith('.ts')) return new Worker(WORKER_FILE);
  // From source (tests run src/ through tsx): tsx's loader does not reach worker threads on
  // Node 20, so the worker registers it before importing its TypeScript.
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_FILE.href)}); });`;
  return new Worker(code, { eval: true });
}

interface Pending {
  worker: Worker;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

export class BcryptWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Pending>();

  /** maxPending: comparisons queued or running beyond which compare() answers 'busy' at once. */
  constructor(private readonly maxPending = 32) {}

  get pending(): number {
    return this.waiting.size;
  }

  compare(password: string, hash: string): Promise<boolean> | 'busy' {
    if (this.waiting.size >= this.maxPending) return 'busy';
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.set(id, { worker, resolve, reject });
      // Busy, it keeps the process alive until the answer; idle, it does not.
      worker.ref();
      worker.postMessage({ id, password, hash } satisfies CompareRequest);
    });
  }

  /** Ends the worker; comparisons still waiting are rejected. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = startWorker();
    w.on('message', (m: CompareAnswer) => {
      const p = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (![...this.waiting.values()].some((q) => q.worker === w)) w.unref();
      p?.resolve(m.ok);
    });
    // A crashed or ended worker fails what it held; the next comparison starts a fresh one.
    w.on('error', (err) => this.lost(w, err));
    w.on('exit', () => this.lost(w, new Error('bcrypt worker exited')));
    // After the listeners: adding a 'message' listener refs the worker's port again.
    w.unref();
    this.worker = w;
    return w;
  }

  private lost(w: Worker, err: Error): void {
    if (this.worker === w) this.worker = undefined;
    for (const [id, p] of this.waiting) {
      if (p.worker !== w) continue;
      this.waiting.delete(id);
      p.reject(err);
    }
  }
}
