// Plain metric families: what a collector returns for one scrape. Collectors build these;
// only http/exposition.ts turns them into prom-client metrics. Nothing here is kept across
// scrapes, so a label set that disappears from the source disappears from /metrics.

export type MetricType = 'gauge' | 'counter';
export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  labelNames: readonly string[];
  samples: Sample[];
}

export class FamilyBuilder {
  private readonly families = new Map<string, MetricFamily>();

  private family(name: string, help: string, type: MetricType, labelNames: readonly string[]): MetricFamily {
    let f = this.families.get(name);
    if (!f) {
      f = { name, help, type, labelNames, samples: [] };
      this.families.set(name, f);
    }
    return f;
  }

  /** Declares a gauge (so it appears with HELP/TYPE even with no samples) and returns a setter. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): (labels: Labels, value: number) => void {
    const f = this.family(name, help, 'gauge', labelNames);
    return (labels, value) => {
      if (Number.isFinite(value)) f.samples.push({ labels, value });
    };
  }

  /** Declares a counter; the value is the counter's current total (name must end in _total). */
  counter(name: string, help: string, labelNames: readonly string[] = []): (labels: Labels, value: number) => void {
    const f = this.family(name, help, 'counter', labelNames);
    return (labels, value) => {
      if (Number.isFinite(value) && value >= 0) f.samples.push({ labels, value });
    };
  }

  build(): MetricFamily[] {
    return [...this.families.values()];
  }
}
