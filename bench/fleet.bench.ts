// Fleet sizing, per host: the series one exporter serves on the audited host and on the scaled
// one (500 more services), the samples per second at the fleet's 15 s scrape interval, and what
// a real Prometheus agent (fleet/agent/prometheus.yml) sends for them to a real
// VictoriaMetrics over --fleet-minutes (default 4): remote-write bytes per second from the
// agent's own counters, and the store's bytes per sample on disk and its RSS.
// docs/fleet.md turns these into 10, 100 and 1,000 hosts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { AUDITED, GeneratedHost, SCALED, type HostSpec } from './lib/host.js';
import { rssBytes } from './lib/measure.js';
import { Exporter, ROOT } from '../test/helpers/exporter.js';
import { parseMetrics } from '../test/helpers/metrics.js';
import { Program, waitFor } from '../test/helpers/program.js';
import { freePort, sleep } from '../test/helpers/supervisord.js';

const SCRAPE_INTERVAL_S = 15;
const minutesFlag = process.argv.find((a) => a.startsWith('--fleet-minutes='));
const MINUTES = minutesFlag ? Number(minutesFlag.split('=')[1]) : 4;

const sumOf = (text: string, name: string): number =>
  parseMetrics(text)
    .filter((s) => s.name === name)
    .reduce((a, s) => a + s.value, 0);

async function measure(label: string, spec: HostSpec): Promise<string> {
  const host = await GeneratedHost.create(spec, (s) => process.stderr.write(`${label}: ${s}\n`));
  let exporter: Exporter | undefined;
  const programs: Program[] = [];
  try {
    exporter = await Exporter.start({ args: [`--config.file=${host.hostauditConfig}`] });
    // The first path scans and database reads land after the first scrape: wait for them.
    let text = '';
    for (let i = 0; i < 120; i++) {
      text = await exporter.metricsText();
      if (/^hostaudit_path_bytes\{[^}]*name="system"/m.test(text) && /^hostaudit_sqlite_ok\{/m.test(text)) break;
      await sleep(1000);
    }
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const own = lines.filter((l) => l.startsWith('hostaudit_')).length;

    const vmPort = await freePort();
    const vmDir = path.join(host.root, 'vm');
    const vm = Program.start('victoria-metrics', 'victoria-metrics', [`-storageDataPath=${vmDir}`, `-httpListenAddr=127.0.0.1:${vmPort}`]);
    programs.push(vm);
    const agentPort = await freePort();
    const ac = parse(readFileSync(path.join(ROOT, 'fleet', 'agent', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
      remote_write: Array<{ url: string }>;
    };
    for (const sc of ac.scrape_configs) {
      sc.static_configs = [{ targets: [sc.job_name === 'hostaudit' ? new URL(exporter.url).host : `127.0.0.1:${agentPort}`] }];
    }
    (ac.remote_write[0] as { url: string }).url = `http://127.0.0.1:${vmPort}/api/v1/write`;
    const agentFile = path.join(host.root, 'agent.yml');
    writeFileSync(agentFile, stringify(ac));
    const agent = Program.start('agent', 'prometheus', [
      '--enable-feature=agent',
      `--config.file=${agentFile}`,
      `--storage.agent.path=${path.join(host.root, 'agent-wal')}`,
      `--web.listen-address=127.0.0.1:${agentPort}`,
    ]);
    programs.push(agent);
    const agentMetrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
    // From the first sample sent: a steady state, not the start-up.
    await waitFor('the agent sending', async () => (sumOf(await agentMetrics(), 'prometheus_remote_storage_samples_total') > 0 ? true : undefined), 120_000, () => agent.tail());
    const m0 = await agentMetrics();
    const t0 = Date.now();
    await sleep(MINUTES * 60_000);
    const m1 = await agentMetrics();
    const seconds = (Date.now() - t0) / 1000;
    const bytes = sumOf(m1, 'prometheus_remote_storage_bytes_total') - sumOf(m0, 'prometheus_remote_storage_bytes_total');
    const samples = sumOf(m1, 'prometheus_remote_storage_samples_total') - sumOf(m0, 'prometheus_remote_storage_samples_total');
    // Let VictoriaMetrics flush its in-memory parts before reading its sizes.
    await sleep(5000);
    const vmText = await (await fetch(`http://127.0.0.1:${vmPort}/metrics`)).text();
    const vmBytes = sumOf(vmText, 'vm_data_size_bytes');
    const vmRows = sumOf(vmText, 'vm_rows');
    const vmRss = vm.child.pid ? rssBytes(vm.child.pid) : NaN;
    return (
      `| ${label} | ${lines.length} | ${own} | ${(lines.length / SCRAPE_INTERVAL_S).toFixed(1)} | ${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB ` +
      `| ${(samples / seconds).toFixed(1)} | ${(bytes / seconds).toFixed(0)} B/s (${(bytes / samples).toFixed(1)} B/sample) ` +
      `| ${(vmBytes / vmRows).toFixed(2)} B/sample over ${vmRows} samples | ${(vmRss / 1048576).toFixed(1)} MB |`
    );
  } finally {
    for (const p of programs.reverse()) await p.stop();
    await exporter?.stop();
    await host.destroy();
  }
}

const rows: string[] = [];
rows.push(await measure('audited host (12 services)', AUDITED));
rows.push(await measure('scaled host (512 services)', SCALED));
process.stdout.write(
  [
    `Agent scraping every ${SCRAPE_INTERVAL_S} s for ${MINUTES} min, remote-writing to VictoriaMetrics single-node.`,
    '',
    `| host | series per scrape | of them hostaudit_* | exporter samples/s | /metrics body | agent samples/s sent | remote-write bytes/s | VictoriaMetrics disk | VictoriaMetrics RSS |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
