// The metrics reference (docs/metrics.md) is the project's contract: every family the source
// declares is listed there (a row may list siblings as `_suffix` after the first full name).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/exporter.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Family names declared with FamilyBuilder's gauge() or counter(). */
function declared(): Set<string> {
  const out = new Set<string>();
  for (const f of sources(path.join(ROOT, 'src'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/\.(?:gauge|counter)\(\s*'(hostaudit_[a-z_]+)'/g)) out.add(m[1] as string);
  }
  return out;
}

function documented(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(path.join(ROOT, 'docs', 'metrics.md'), 'utf8').split('\n')) {
    if (!line.startsWith('|')) continue;
    const names = [...line.split('|')[1]?.matchAll(/`([a-z_]+)`/g) ?? []].map((m) => m[1] as string);
    const full = names.find((n) => n.startsWith('hostaudit_'));
    for (const n of names) {
      if (n.startsWith('hostaudit_')) out.add(n);
      else if (full && n.startsWith('_')) {
        // `_pages` after `hostaudit_sqlite_page_size_bytes`: a sibling of one of its prefixes.
        const parts = full.split('_');
        for (let k = 2; k < parts.length; k++) out.add(parts.slice(0, k).join('_') + n);
      }
    }
  }
  return out;
}

describe('docs/metrics.md', () => {
  it('lists every metric family the exporter declares', () => {
    const decl = declared();
    assert.ok(decl.size >= 50, `found ${decl.size} declared families`);
    const doc = documented();
    const missing = [...decl].filter((n) => !doc.has(n));
    assert.deepEqual(missing, [], 'declared in src but not in docs/metrics.md');
  });
});
