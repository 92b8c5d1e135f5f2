// Fleet sizing, per host: the series one exporter serves on the audited host and on the scaled
// one (500 more services), the samples per second they make at the fleet's 15 s scrape
// interval, and the exposition's size. docs/fleet.md turns these into 10, 100 and 1,000 hosts.
import { AUDITED, GeneratedHost, SCALED, type HostSpec } from './lib/host.js';
import { Exporter } from '../test/helpers/exporter.js';
import { sleep } from '../test/helpers/supervisord.js';

const SCRAPE_INTERVAL_S = 15;

async function measure(label: string, spec: HostSpec): Promise<string> {
  const host = await GeneratedHost.create(spec, (s) => process.stderr.write(`${label}: ${s}\n`));
  let exporter: Exporter | undefined;
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
    // Prometheus adds five series per target (up, scrape_duration_seconds, …).
    const series = lines.length + 5;
    return `| ${label} | ${series} | ${own} | ${(series / SCRAPE_INTERVAL_S).toFixed(1)} | ${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB |`;
  } finally {
    await exporter?.stop();
    await host.destroy();
  }
}

const rows: string[] = [];
rows.push(await measure('audited host (12 services)', AUDITED));
rows.push(await measure('scaled host (512 services)', SCALED));
process.stdout.write(
  [`| host | series per scrape | of them hostaudit_* | samples/s at ${SCRAPE_INTERVAL_S} s | /metrics body |`, '|---|---|---|---|---|', ...rows, ''].join('\n'),
);
