// The exporter's version, read from package.json at run time (one source of truth).
import { readFileSync } from 'node:fs';

let cached: string | undefined;
export function exporterVersion(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
      cached = pkg.version ?? 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
