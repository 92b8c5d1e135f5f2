// The alert rules: generated files are up to date, every alert of the contract's table
// (docs/monitoring.md, "Alerts") exists with its `for`, severity and exactly its labels, none
// other, promtool accepts the rules and their unit tests pass, and every runbook_url points at a
// runbook in docs/runbooks.md.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ALERT_DEFINITIONS, RUNBOOK_BASE_URL } from '../src/monitoring/alert-rules.js';
import { generatedFiles } from '../src/monitoring/generate.js';
import { RULE_TESTS } from '../src/monitoring/rule-tests.js';
import { EXPORTER_JOB_SELECTOR, THRESHOLDS } from '../src/monitoring/thresholds.js';
import { specAlerts } from './helpers/contract.js';
import { ROOT } from './helpers/exporter.js';

const RULES_FILE = path.join(ROOT, 'alerts', 'hostaudit.rules.yml');

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function rules(): Rule[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

function run(cmd: string, args: string[], cwd = ROOT): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('generated monitoring files', () => {
  it('are committed exactly as `npm run generate` writes them', () => {
    const files = generatedFiles();
    assert.ok(files.size >= 3);
    for (const [rel, content] of files) {
      const onDisk = readFileSync(path.join(ROOT, rel), 'utf8');
      assert.equal(onDisk, content, `${rel} differs from what \`npm run generate\` writes: run it and commit`);
    }
  });

  it('leave no stale generated file behind', () => {
    const files = generatedFiles();
    for (const dir of ['alerts/tests', 'dashboards']) {
      for (const f of readdirSync(path.join(ROOT, dir))) {
        assert.ok(files.has(`${dir}/${f}`), `${dir}/${f} is not generated any more: delete it`);
      }
    }
  });
});

describe('alert rules', () => {
  const all = specAlerts();

  it('the contract lists exactly the alerts the thresholds module encodes', () => {
    assert.ok(all.length >= 16, 'docs/monitoring.md alert table');
    assert.deepEqual(
      all.map((s) => s.alert).sort(),
      Object.values(THRESHOLDS)
        .map((t) => t.alert)
        .sort(),
    );
  });

  it('the rules file holds exactly the alerts of the contract', () => {
    assert.deepEqual(
      rules()
        .map((r) => r.alert)
        .sort(),
      all.map((s) => s.alert).sort(),
    );
  });

  it('every alert of the contract has its for, severity, and exactly its labels', () => {
    const byName = new Map(rules().map((r) => [r.alert, r]));
    assert.equal(byName.size, all.length);
    for (const s of all) {
      const r = byName.get(s.alert);
      assert.ok(r, `${s.alert} missing from alerts/hostaudit.rules.yml`);
      assert.equal(r.for, s.for, `${s.alert}: for`);
      assert.deepEqual(r.labels, { severity: s.severity }, `${s.alert}: the rule adds only severity`);
      const def = ALERT_DEFINITIONS.find((d) => THRESHOLDS[d.key].alert === s.alert);
      assert.deepEqual([...(def?.labels ?? [])].sort(), [...s.labels].sort(), `${s.alert}: labels`);
      // The expression aggregates away everything but those labels.
      const by = [...r.expr.matchAll(/\bby \(([^)]*)\)/g)].map((m) => (m[1] as string).split(/,\s*/).sort());
      assert.ok(by.length > 0, `${s.alert}: no by (...) aggregation`);
      for (const b of by) assert.deepEqual(b, [...s.labels].sort(), `${s.alert}: by (${b.join(', ')})`);
    }
  });

  it('HostAuditExporterDown watches `up` of the scrape job prometheus/prometheus.yml ships', () => {
    const r = rules().find((x) => x.alert === 'HostAuditExporterDown');
    assert.ok(r);
    assert.equal(r.expr, `min by (job, instance) (up{${EXPORTER_JOB_SELECTOR}}) == 0`);
    const job = /^job="([^"]+)"$/.exec(EXPORTER_JOB_SELECTOR)?.[1];
    const prom = parse(readFileSync(path.join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string }>;
    };
    assert.ok(
      prom.scrape_configs.some((c) => c.job_name === job),
      `${EXPORTER_JOB_SELECTOR} names no job of prometheus/prometheus.yml`,
    );
  });

  it('the promtool tests expect exactly the contract labels plus severity for every alert they fire', () => {
    for (const s of all) {
      const key = Object.entries(THRESHOLDS).find(([, t]) => t.alert === s.alert)?.[0] as keyof typeof THRESHOLDS;
      const file = RULE_TESTS[key];
      assert.ok(file, `no promtool test for ${s.alert}`);
      const fired = file.tests.flatMap((t) => t.alert_rule_test.flatMap((a) => a.exp_alerts));
      const silent = file.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length === 0));
      assert.ok(fired.length > 0, `${s.alert}: no test where it fires`);
      assert.ok(silent.length > 0, `${s.alert}: no test where it stays silent`);
      for (const a of fired) {
        assert.deepEqual(Object.keys(a.exp_labels).sort(), [...s.labels, 'severity'].sort(), s.alert);
        assert.equal(a.exp_labels.severity, s.severity);
      }
    }
  });

  it('carry summary, a description with the value, and a runbook_url', () => {
    for (const r of rules()) {
      assert.ok(r.annotations.summary, `${r.alert}: summary`);
      // The measured value; for ServiceDown (a state set, value 1) the value is the state.
      const value = r.alert === 'HostAuditServiceDown' ? /\{\{ \$labels\.state \}\}/ : /\{\{ \$value( \| humanize\w*)? \}\}/;
      assert.match(r.annotations.description ?? '', value, `${r.alert}: description has the value`);
      assert.equal(r.annotations.runbook_url, `${RUNBOOK_BASE_URL}#${r.alert.toLowerCase()}`);
    }
  });

  it('pass promtool check rules', () => {
    const r = run('promtool', ['check', 'rules', RULES_FILE]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${all.length} rules found`));
  });

  it('pass their promtool unit tests (fires at the threshold after for; not below it, not before)', () => {
    const dir = path.join(ROOT, 'alerts', 'tests');
    const files = readdirSync(dir).filter((f) => f.endsWith('.test.yml'));
    assert.equal(files.length, all.length);
    const r = run('promtool', ['test', 'rules', ...files.map((f) => path.join(dir, f))]);
    assert.equal(r.status, 0, r.out);
    assert.doesNotMatch(r.out, /FAILED/);
  });

  it('promtool test rules fails when a rule does not behave as its test expects', () => {
    // The tests can fail: a copy of the rules with the CPU threshold doubled must fail them.
    const dir = path.join(ROOT, 'alerts', 'tests');
    const r = spawnSync(
      'sh',
      [
        '-c',
        `set -e; t=$(mktemp -d); trap 'rm -rf "$t"' EXIT; mkdir "$t/tests";
         sed 's/> 0.4$/> 0.8/' "${RULES_FILE}" > "$t/hostaudit.rules.yml";
         grep -q '> 0.8$' "$t/hostaudit.rules.yml";
         cp "${dir}/service-high-cpu.test.yml" "$t/tests/";
         promtool test rules "$t/tests/service-high-cpu.test.yml"`,
      ],
      { encoding: 'utf8' },
    );
    assert.notEqual(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /FAILED/);
  });
});

describe('runbooks', () => {
  it('every alert has a runbook in docs/runbooks.md: what it means, what to check, what to do', () => {
    const readme = readFileSync(path.join(ROOT, 'docs', 'runbooks.md'), 'utf8');
    const start = readme.indexOf('<!-- section: runbooks -->');
    const end = readme.indexOf('<!-- /section: runbooks -->');
    assert.ok(start >= 0 && end > start, 'docs/runbooks.md runbooks section');
    const section = readme.slice(start, end);
    for (const r of rules()) {
      const anchor = new URL((r.annotations.runbook_url ?? '').replace('{{ $labels.instance }}', 'host:9863')).hash.slice(1);
      // GitHub's anchor for "## HostAuditServiceHighCPU" is its lower-cased text.
      const heading = new RegExp(`^## ${r.alert}\\s*$`, 'm').exec(section);
      assert.ok(heading, `docs/runbooks.md has no "## ${r.alert}" runbook`);
      assert.equal(anchor, r.alert.toLowerCase());
      const body = section.slice(heading.index + heading[0].length).split(/^## /m)[0] ?? '';
      for (const part of ['What it means', 'What to check', 'What to do']) {
        assert.ok(body.includes(part), `${r.alert} runbook lacks "${part}"`);
      }
    }
  });
});
