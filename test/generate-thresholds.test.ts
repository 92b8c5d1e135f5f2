// `generate --config.file=F --out=DIR` with per-service overrides, judged by promtool: the default
// rule fires for one service while an override holds for another (and a lower override fires
// where the default would not), by name and by group:name, group:name winning over name. Without a thresholds: section the
// rules are exactly the repository's alerts/hostaudit.rules.yml.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { ROOT, runCli } from './helpers/exporter.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const JOB = 'hostaudit';
const HOST = 'trading-host:9863';
type Labels = Record<string, string>;
const svc = (group: string, name: string): Labels => ({ job: JOB, instance: HOST, group, name });
const sel = (l: Labels): string => `{${Object.entries(l).map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
/** N cores of CPU: a counter of seconds growing 60*N a minute. */
const cpu = (l: Labels, cores: number): { series: string; values: string } => ({
  series: `hostaudit_service_cpu_seconds_total${sel({ ...l, mode: 'user' })}`,
  values: `0+${cores * 60}x40`,
});
const info = (l: Labels): { series: string; values: string } => ({ series: `hostaudit_service_info${sel({ ...l, description: 'pid 1, uptime 0:10:00' })}`, values: '1x40' });

const MAIN_APP = svc('web', 'main_app');
const SYNC = svc('kalshi', 'kalshi_account_sync');
const WORKER = svc('worker', 'worker_00');
const OTHER_WORKER = svc('batch', 'worker_00');

describe('generate with per-service thresholds', () => {
  let dir: string;
  let rulesFile: string;

  before(async () => {
    dir = makeTmpDir('hostaudit-generate-');
    const config = path.join(dir, 'hostaudit.yml');
    writeFileSync(
      config,
      stringify({
        thresholds: {
          runbook_url: 'https://wiki.example.com/runbooks/{alert}',
          services: {
            kalshi_account_sync: { service_high_cpu: { value: 0.7 } },
            worker_00: { service_high_cpu: { value: 0.6 } },
            'worker:worker_00': { service_high_cpu: { value: 0.3 } },
          },
        },
      }),
    );
    const r = await runCli(['generate', `--config.file=${config}`, `--out=${path.join(dir, 'out')}`]);
    assert.equal(r.code, 0, r.stderr);
    rulesFile = path.join(dir, 'out', 'hostaudit.rules.yml');
  });
  after(() => removeTmpDir(dir));

  it('promtool: the default fires for one service, the overrides hold or fire for the others', () => {
    const link = 'https://wiki.example.com/runbooks/HostAuditServiceHighCPU';
    const expected = (l: Labels, used: string, limit: string, summary: string): unknown => ({
      exp_labels: { ...l, severity: 'warning' },
      exp_annotations: {
        summary,
        description: `${l.group}/${l.name} on ${HOST} has used ${used} of a core (user+system, its whole process tree) for more than 15m; the threshold is ${limit}.`,
        runbook_url: link,
      },
    });
    const base = 'Service uses more than 40% of a core for 15 minutes';
    const test = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            cpu(MAIN_APP, 0.5), info(MAIN_APP),
            cpu(SYNC, 0.5), info(SYNC),
            cpu(WORKER, 0.65), info(WORKER),
            cpu(OTHER_WORKER, 0.5), info(OTHER_WORKER),
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'HostAuditServiceHighCPU', exp_alerts: [] }, // before for: 15m
            {
              eval_time: '21m',
              alertname: 'HostAuditServiceHighCPU',
              exp_alerts: [
                // main_app: 50% > the default 40%. kalshi_account_sync: 50% < its 70%, silent.
                // worker:worker_00: 65% > its 30%, once (its group:name entry wins over the
                // name entry's 60%); batch:worker_00: 50% < the name entry's 60%, silent.
                expected(MAIN_APP, '50%', '40%', base),
                expected(WORKER, '65%', '30%', `${base} (tuned for worker:worker_00: limit 30% of a core)`),
              ],
            },
          ],
        },
      ],
    };
    const testFile = path.join(dir, 'per-service.test.yml');
    writeFileSync(testFile, stringify(test));
    const r = spawnSync('promtool', ['test', 'rules', testFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('writes one default rule that leaves the overridden services out, and one rule per override', () => {
    const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups[0]?.rules ?? [];
    const cpuRules = rules.filter((r) => r.alert === 'HostAuditServiceHighCPU').map((r) => r.expr);
    const MATCH = 'on \\(job, instance, group, name\\)';
    assert.equal(cpuRules.length, 4);
    assert.match(cpuRules[0] as string, new RegExp(`> 0\\.4\\) unless ${MATCH} \\(hostaudit_service_info\\{name="kalshi_account_sync"\\} or hostaudit_service_info\\{name="worker_00"\\} or hostaudit_service_info\\{group="worker", name="worker_00"\\}\\)$`));
    assert.match(cpuRules[1] as string, new RegExp(`> 0\\.7\\) and ${MATCH} hostaudit_service_info\\{name="kalshi_account_sync"\\}$`));
    assert.match(cpuRules[2] as string, new RegExp(`> 0\\.6\\) and ${MATCH} \\(hostaudit_service_info\\{name="worker_00"\\} unless ${MATCH} \\(hostaudit_service_info\\{group="worker", name="worker_00"\\}\\)\\)$`));
    assert.match(cpuRules[3] as string, new RegExp(`> 0\\.3\\) and ${MATCH} hostaudit_service_info\\{group="worker", name="worker_00"\\}$`));
    // Alerts without overrides are the built-in ones.
    assert.equal(rules.filter((r) => r.alert === 'HostAuditServiceCPUSaturated').length, 1);
  });

  it('without a thresholds: section, writes exactly the repository\'s rules', async () => {
    const out = path.join(dir, 'plain');
    // From a directory without a hostaudit.yml (generate reads ./hostaudit.yml like every command).
    const r = await runCli(['generate', `--out=${out}`], { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    const strip = (t: string): string => t.replace(/^#.*\n/, '');
    assert.equal(strip(readFileSync(path.join(out, 'hostaudit.rules.yml'), 'utf8')), strip(readFileSync(path.join(ROOT, 'alerts', 'hostaudit.rules.yml'), 'utf8')));
    assert.equal(
      strip(readFileSync(path.join(out, 'hostaudit.recording.rules.yml'), 'utf8')),
      strip(readFileSync(path.join(ROOT, 'alerts', 'hostaudit.recording.rules.yml'), 'utf8')),
    );
    for (const d of ['host-audit.json', 'service-detail.json', 'fleet-overview.json']) {
      assert.equal(readFileSync(path.join(out, 'dashboards', d), 'utf8'), readFileSync(path.join(ROOT, 'dashboards', d), 'utf8'));
    }
  });
});
