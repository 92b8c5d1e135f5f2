// Read access to one collection's plain families, by metric name and labels. The report is
// built from exactly what /metrics would serve, so every figure in it can be checked against
// a scrape, and collectors added later (paths, sqlite) appear in the report without it
// knowing how they measure.
import type { Labels, MetricFamily, Sample } from '../collectors/metric-family.js';

export class FamilyIndex {
  private readonly byName = new Map<string, Sample[]>();

  constructor(families: readonly MetricFamily[]) {
    for (const f of families) {
      const list = this.byName.get(f.name);
      if (list) list.push(...f.samples);
      else this.byName.set(f.name, [...f.samples]);
    }
  }

  /** Samples of `name` whose labels include every pair of `match`. */
  all(name: string, match: Labels = {}): Sample[] {
    const list = this.byName.get(name) ?? [];
    const entries = Object.entries(match);
    return list.filter((s) => entries.every(([k, v]) => s.labels[k] === v));
  }

  /** The first matching value, or null. */
  one(name: string, match: Labels = {}): number | null {
    return this.all(name, match)[0]?.value ?? null;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}
