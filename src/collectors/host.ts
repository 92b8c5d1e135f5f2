// The "host" collector: host-wide memory and TCP sockets by state (always: they need no
// config and the audit reports them), and process counts for the configured process_names.
// Each part is read on its own, so one failing read leaves the others' series in place.
import { describeError } from '../errors.js';
import { countTcpStates, ProcessNameCounter, readHostMemory } from '../sources/host.js';
import type { CollectContext, Collector, CollectorDeps } from './collector.js';
import { hostTcp, processTable } from './shared-readings.js';
import { ProcReader } from '../sources/proc-tree.js';
import { FamilyBuilder, type MetricFamily } from './metric-family.js';

export class HostCollector implements Collector {
  readonly name = 'host';
  private readonly names: ProcessNameCounter;

  constructor(
    private readonly processNames: readonly string[],
    private readonly proc: ProcReader = new ProcReader(),
  ) {
    this.names = new ProcessNameCounter(proc.root);
  }

  prefetch(ctx: CollectContext): void {
    hostTcp(ctx, this.proc.root).catch(() => undefined); // memoized; collect() awaits it and reports a failure
  }

  async collect(ctx: CollectContext): Promise<MetricFamily[]> {
    const b = new FamilyBuilder();
    const failures: string[] = [];

    // Started first (or already, by prefetch): the kernel's walk for the TCP tables runs on
    // libuv's threads meanwhile.
    const sockets = hostTcp(ctx, this.proc.root);
    sockets.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    const mem = b.gauge('hostaudit_host_memory_bytes', 'Host memory: total, available (MemAvailable), used (total − available).', ['kind']);
    try {
      const m = readHostMemory(this.proc.root);
      mem({ kind: 'total' }, m.totalBytes);
      mem({ kind: 'available' }, m.availableBytes);
      mem({ kind: 'used' }, m.usedBytes);
    } catch (err) {
      failures.push(`memory: ${describeError(err)}`);
    }

    const tcp = b.gauge('hostaudit_host_tcp_connections', 'Host-wide TCP sockets (IPv4 and IPv6) by state.', ['state']);
    try {
      for (const [state, n] of countTcpStates(await sockets)) tcp({ state }, n);
    } catch (err) {
      failures.push(`tcp: ${describeError(err)}`);
    }

    if (this.processNames.length > 0) {
      const procs = b.gauge('hostaudit_host_processes', 'Host processes whose name or argv[0] base name matches.', ['name']);
      try {
        for (const [name, n] of this.names.count(this.processNames, processTable(ctx, this.proc))) procs({ name }, n);
      } catch (err) {
        failures.push(`processes: ${describeError(err)}`);
      }
    }

    // Nothing readable at all is a failed collector; a partial read is served and logged.
    if (failures.length === (this.processNames.length > 0 ? 3 : 2)) throw new Error(failures.join('; '));
    for (const f of failures) ctx.log.warn('host reading failed', { err: f });
    return b.build();
  }
}

export function createHostCollector(deps: CollectorDeps): Collector {
  return new HostCollector(deps.config.processNames, deps.proc);
}
