// --config.check: reads and validates the config file and the web config exactly as serving
// would, prints `config OK` and exits 0; a bad file is the usual one-line error and exit 2
// (thrown to main.ts). Starts nothing.
import type { CheckOptions } from './cli.js';
import { readSupervisorPassword, type Config } from './config.js';
import { ConfigError, ExitCode, describeError } from './errors.js';
import { loadWebConfig } from './http/web-config.js';

export function runConfigCheck(opts: CheckOptions, loadConfig: (file: string | undefined) => Config): number {
  const config = loadConfig(opts.configFile);
  if (opts.webConfigFile !== undefined) loadWebConfig(opts.webConfigFile);
  try {
    readSupervisorPassword(config.supervisor);
  } catch (err) {
    throw new ConfigError(config.supervisor.passwordFile ?? 'supervisor password', undefined, `cannot read password file: ${describeError(err)}`);
  }
  process.stdout.write('config OK\n');
  return ExitCode.ok;
}
