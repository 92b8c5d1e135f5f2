// The hostile-supervisord attacks of docs/reliability.md, measured: for each, the real
// exporter (poll_interval 1h, so only scrapes ask) against test/helpers/hostile-supervisord.ts,
// three scrapes while /-/healthy is asked every 100 ms; the exporter's RSS and CPU from /proc.
// `npm run bench -- supervisor-attacks`, or one attack: `... -- supervisor-attacks --only=many`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Exporter } from '../test/helpers/exporter.js';
import { answers, HostileSupervisord, type Behaviour } from '../test/helpers/hostile-supervisord.js';
import { makeTmpDir, removeTmpDir } from '../test/helpers/tmp.js';

const attacks: Record<string, { timeout: string; make: (h: HostileSupervisord) => Behaviour }> = {
  '101 Switching Protocols': { timeout: '1s', make: () => answers.switching() },
  '101 without Upgrade': { timeout: '1s', make: () => answers.switchingBare() },
  'a 102 every 200 ms': { timeout: '1s', make: (h) => answers.informational(h) },
  'accepts, never answers': { timeout: '1s', make: () => answers.silent() },
  'a byte a second': { timeout: '1s', make: (h) => answers.trickle(h) },
  'endless body, 64 kB / 100 ms': { timeout: '1s', make: (h) => answers.endless(h) },
  'endless body, full speed': { timeout: '1s', make: () => answers.flood() },
  'declares 1 GB': { timeout: '1s', make: () => answers.oversize() },
  'not XML': { timeout: '1s', make: () => answers.notXml() },
  'XML-RPC fault': { timeout: '1s', make: () => answers.fault() },
  'nested 100,000 deep': { timeout: '1s', make: () => answers.deep() },
  '300,000 values': { timeout: '1s', make: () => answers.hugeArray() },
  'HTTP 401': { timeout: '1s', make: () => answers.unauthorized() },
  '10 MB program name': { timeout: '20s', make: () => answers.processes([{ name: `svc_${'n'.repeat(10 * 1024 * 1024)}`, group: 'big', pid: process.pid }]) },
  '5000 entries, one pid (1)': {
    timeout: '20s',
    make: () => answers.processes(Array.from({ length: 5000 }, (_, i) => ({ name: `worker_${i}`, group: 'worker', pid: 1 }))),
  },
};

function usage(pid: number): { cpu: number; rssMiB: number } {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  return { cpu: (Number(f[11]) + Number(f[12])) / 100, rssMiB: rss };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const dir = makeTmpDir('hostaudit-bench-attacks-');
console.log('| attack | supervisor_up | scrapes (ms) | /metrics bytes | /-/healthy max (ms) | RSS before → peak (MiB) | CPU (s) |');
console.log('|---|---|---|---|---|---|---|');
try {
  for (const [name, a] of Object.entries(attacks)) {
    if (only && !name.includes(only)) continue;
    const h = await HostileSupervisord.start(path.join(dir, 'h.sock'));
    h.behaviour = a.make(h);
    const exp = await Exporter.start({ config: { supervisor: { url: h.url, timeout: a.timeout, poll_interval: '1h' } } });
    try {
      await sleep(1000); // the start's own poll has met the attack
      const pid = exp.child.pid as number;
      const u0 = usage(pid);
      let peak = u0.rssMiB;
      let done = false;
      let healthyMax = 0;
      const poller = (async () => {
        while (!done) {
          const t = Date.now();
          await (await fetch(`${exp.url}/-/healthy`)).text();
          healthyMax = Math.max(healthyMax, Date.now() - t);
          peak = Math.max(peak, usage(pid).rssMiB);
          await sleep(100);
        }
      })();
      const ms: number[] = [];
      let body = '';
      for (let i = 0; i < 3; i++) {
        const t = Date.now();
        body = await exp.metricsText();
        ms.push(Date.now() - t);
      }
      done = true;
      await poller;
      const u1 = usage(pid);
      const up = /^hostaudit_supervisor_up (\d)/m.exec(body)?.[1] ?? 'absent';
      console.log(`| ${name} | ${up} | ${ms.join(', ')} | ${body.length} | ${healthyMax} | ${u0.rssMiB.toFixed(0)} → ${peak.toFixed(0)} | ${(u1.cpu - u0.cpu).toFixed(2)} |`);
    } finally {
      await exp.cleanup();
      await h.close();
    }
  }
} finally {
  removeTmpDir(dir);
}
