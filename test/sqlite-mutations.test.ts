// The reader against sqlite3's own verdict on a few hundred damaged copies of sqlite3-made
// databases: byte flips in the header, in page 1 and anywhere, truncations (mid-page and at a
// page boundary), swapped pages, a zeroed page. For each copy sqlite3 -readonly decides
// whether it opens the file and loads its schema; the exporter must say ok 0 for every copy
// sqlite3 refuses, and for a copy both accept the figures must be sqlite3's PRAGMAs. Copies
// the exporter refuses though sqlite3 opens them are counted by class (docs/reliability.md).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteReader } from '../src/sources/sqlite-file.js';
import { makeSeeds, pragmas, sqlite3, type Seed } from './helpers/sqlite-craft.js';
import { makeTmpDir, removeTmpDir } from './helpers/tmp.js';

const MUTANTS = Number(process.env.SQLITE_MUTANTS) || 420;

/** A small deterministic PRNG (mulberry32), so a failure names a mutant that can be made again. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = 'header-flip' | 'page1-flip' | 'any-flip' | 'truncate' | 'truncate-page' | 'swap-pages' | 'zero-page';
const MUTATIONS: Mutation[] = ['header-flip', 'page1-flip', 'any-flip', 'truncate', 'truncate-page', 'swap-pages', 'zero-page'];

function mutate(seed: Seed, kind: Mutation, rand: () => number): Buffer {
  const b = Buffer.from(seed.bytes);
  const ps = seed.pragmas.pageSize;
  const pages = Math.max(1, Math.floor(b.length / ps));
  const int = (n: number): number => Math.floor(rand() * n);
  const flip = (at: number): void => {
    b[at] = (b[at] as number) ^ (1 + int(255));
  };
  switch (kind) {
    case 'header-flip':
      for (let i = 0, n = 1 + int(2); i < n; i++) flip(16 + int(84));
      return b;
    case 'page1-flip':
      for (let i = 0, n = 1 + int(3); i < n; i++) flip(100 + int(Math.min(ps, b.length) - 100));
      return b;
    case 'any-flip':
      for (let i = 0, n = 1 + int(4); i < n; i++) flip(int(b.length));
      return b;
    case 'truncate':
      return b.subarray(0, int(b.length));
    case 'truncate-page':
      return b.subarray(0, int(pages) * ps);
    case 'swap-pages': {
      const x = int(pages);
      const y = int(pages);
      const px = Buffer.from(b.subarray(x * ps, (x + 1) * ps));
      b.copy(b, x * ps, y * ps, (y + 1) * ps);
      px.copy(b, y * ps);
      return b;
    }
    case 'zero-page': {
      const x = int(pages);
      b.fill(0, x * ps, (x + 1) * ps);
      return b;
    }
  }
}

interface Outcome {
  seed: string;
  kind: Mutation;
  n: number;
  sqlite: boolean;
  ours: boolean;
  problem?: string;
  figuresDiffer?: string;
  /** sqlite3's PRAGMA quick_check, for a file it opens and the exporter refuses. */
  integrity?: string;
}

describe('damaged databases: the exporter agrees with sqlite3', () => {
  let dir: string;
  let seeds: Seed[];
  const outcomes: Outcome[] = [];
  before(() => {
    dir = makeTmpDir('hostaudit-sqlmut-');
    seeds = makeSeeds(dir);
  });
  after(() => {
    if (!process.env.SQLITE_MUTANT_KEEP) removeTmpDir(dir);
  });

  it(`${MUTANTS} mutants: every file sqlite3 refuses gets ok 0; figures equal where both read it`, async (t) => {
    const rand = rng(Number(process.env.SQLITE_MUTANT_SEED) || 20261201);
    for (let n = 0; n < MUTANTS; n++) {
      const seed = seeds[n % seeds.length] as Seed;
      const kind = MUTATIONS[Math.floor(rand() * MUTATIONS.length)] as Mutation;
      const bytes = mutate(seed, kind, rand);
      const f = path.join(dir, `m${n}.db`);
      writeFileSync(f, bytes);
      const ref = pragmas(f);
      const r = await new SqliteReader().read(f);
      assert.ok(r, `mutant ${n} has a reading`);
      const o: Outcome = { seed: seed.name, kind, n, sqlite: ref !== undefined, ours: r.ok };
      if (r.problem) o.problem = r.problem;
      if (ref && !r.ok) o.integrity = sqlite3(f, 'pragma quick_check', true).out;
      if (ref && r.ok) {
        // An empty database has no header: sqlite3 names its default page size, the exporter none.
        // sqlite3 prints PRAGMA freelist_count as a signed 32-bit number.
        const freelist = r.freelistPages === undefined ? undefined : r.freelistPages | 0;
        const mine = { pageSize: r.pages === 0 ? ref.pageSize : r.pageSize, pages: r.pages, freelist, tables: r.tables, indexes: r.indexes };
        if (JSON.stringify(mine) !== JSON.stringify(ref)) o.figuresDiffer = `${JSON.stringify(mine)} vs sqlite3 ${JSON.stringify(ref)}`;
      }
      outcomes.push(o);
    }
    const refused = outcomes.filter((o) => !o.sqlite);
    const missed = refused.filter((o) => o.ours);
    const extra = outcomes.filter((o) => o.sqlite && !o.ours);
    const differ = outcomes.filter((o) => o.figuresDiffer);
    const agree = outcomes.filter((o) => o.sqlite === o.ours && !o.figuresDiffer).length;
    const classes = new Map<string, number>();
    for (const o of extra) {
      const c = (o.problem ?? '').replace(/[0-9]+/g, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 70);
      classes.set(c, (classes.get(c) ?? 0) + 1);
    }
    t.diagnostic(
      `mutants ${outcomes.length}; sqlite3 refuses ${refused.length}, of which ok 0 here ${refused.length - missed.length}; ` +
        `agreement ${agree}/${outcomes.length} (${((100 * agree) / outcomes.length).toFixed(1)} %); ` +
        `refused here though sqlite3 opens them: ${extra.length}`,
    );
    for (const [c, k] of classes) t.diagnostic(`  refused here, opened by sqlite3: ${k} × ${c}`);
    t.diagnostic(`  of those, sqlite3's quick_check refuses ${extra.filter((o) => o.integrity !== 'ok').length}`);
    for (const o of missed) t.diagnostic(`  MISSED: mutant ${o.n} (${o.seed}, ${o.kind}) ${path.join(dir, `m${o.n}.db`)}`);
    for (const o of differ) t.diagnostic(`  FIGURES: mutant ${o.n} (${o.seed}, ${o.kind}): ${o.figuresDiffer}`);
    assert.ok(refused.length > 20, 'the mutations damage enough files to mean something');
    assert.deepEqual(
      missed.map((o) => `${o.n}:${o.seed}:${o.kind}`),
      [],
      'every file sqlite3 refuses is ok 0',
    );
    assert.deepEqual(
      extra.filter((o) => o.integrity === 'ok' && !/^freelist /.test(o.problem ?? '')).map((o) => `${o.n}:${o.seed}:${o.kind}: ${o.problem}`),
      [],
      'a file refused here that sqlite3 opens has a damaged freelist or fails its quick_check',
    );
    assert.deepEqual(
      differ.map((o) => `${o.n}: ${o.figuresDiffer}`),
      [],
      'figures equal sqlite3 where both read the file',
    );
  });
});
