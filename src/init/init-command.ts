// `init [--supervisor.url=URL] [--out=FILE]`: asks supervisord and the host what there is to
// watch and prints a commented config that --config.check accepts (checked here before it is
// printed). Refuses to overwrite --out.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parse } from 'yaml';
import type { InitOptions } from '../cli.js';
import { parseConfig, type Config } from '../config.js';
import { ExitCode, SourceError, UsageError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { discover } from './discover.js';
import { renderConfig } from './render-config.js';

export async function runInitCommand(opts: InitOptions, config: Config, log: Logger): Promise<number> {
  const supervisor = { ...config.supervisor };
  if (opts.supervisorUrl !== undefined) {
    // Validated as the config file's supervisor.url is.
    supervisor.urls = parseConfig({ supervisor: { url: opts.supervisorUrl } }, '--supervisor.url').supervisor.urls;
  }
  let found;
  try {
    found = await discover(supervisor);
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    throw new UsageError(`init: supervisord did not answer (${describeError(err).replace(/^supervisor: /, '')}); give its address with --supervisor.url=URL`);
  }
  const auth = { ...(supervisor.username !== undefined ? { username: supervisor.username } : {}), ...(supervisor.passwordFile !== undefined ? { passwordFile: supervisor.passwordFile } : {}) };
  const text = renderConfig(found, { host: os.hostname(), date: new Date().toISOString() }, auth);
  // What init prints must pass --config.check; a failure here is a bug, reported as one.
  parseConfig(parse(text), opts.outFile ?? '<init output>');
  if (opts.outFile === undefined) {
    process.stdout.write(text);
    return ExitCode.ok;
  }
  try {
    writeFileSync(opts.outFile, text, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`--out: ${opts.outFile} exists; init does not overwrite it`);
    throw new UsageError(`--out: cannot write ${opts.outFile}: ${describeError(err)}`);
  }
  log.info('config written', { file: opts.outFile, paths: found.paths.length, databases: found.databases.length, probes: found.probes.length });
  return ExitCode.ok;
}
