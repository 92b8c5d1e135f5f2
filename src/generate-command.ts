// `generate [--config.file=F] --out=DIR`: the alert rules and dashboards with the thresholds of
// the config's `thresholds:` section, for the operator's Prometheus and Grafana. Works in the
// installed package: everything it needs is compiled into dist/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GenerateOptions } from './cli.js';
import type { Config } from './config.js';
import { ConfigError, ExitCode, describeError } from './errors.js';

export async function runGenerateCommand(opts: GenerateOptions, config: Config): Promise<number> {
  const { tunedFiles } = await import('./monitoring/tuned-files.js');
  const files = tunedFiles(config.thresholds, config.file ? path.basename(config.file) : 'the built-in thresholds');
  for (const [rel, content] of files) {
    const file = path.join(opts.outDir, rel);
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
    } catch (err) {
      throw new ConfigError(opts.outDir, undefined, `cannot write ${rel}: ${describeError(err)}`);
    }
    process.stdout.write(`wrote ${file}\n`);
  }
  return ExitCode.ok;
}
