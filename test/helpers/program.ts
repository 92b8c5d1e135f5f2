// A program a test starts (Prometheus, an agent, VictoriaMetrics, vmalert, Alertmanager): its
// output kept for diagnostics, a stop that waits for the exit, and a poll-until helper.
import { spawn, type ChildProcess } from 'node:child_process';
import { sleep } from './supervisord.js';

/** Programs still running when the test process exits (a failed test skipped its cleanup). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class Program {
  output = '';
  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    live.add(child);
    child.once('exit', () => live.delete(child));
    const keep = (d: Buffer): void => {
      // The tail is what diagnoses a failure; keep it bounded.
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static start(name: string, cmd: string, args: string[]): Program {
    return new Program(name, spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }

  tail(chars = 2000): string {
    return `--- ${this.name}${this.running ? '' : ` (exited ${this.child.exitCode ?? this.child.signalCode})`}\n${this.output.slice(-chars)}`;
  }
}

/** Polls `fn` every 500 ms until it returns a value; errors count as "not yet". */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  diag: () => string | Promise<string> = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what} (${String(last ?? '')})\n${await diag()}`);
}
