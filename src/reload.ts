// SIGHUP and POST /-/reload: read the config file and the web config again and, when both are
// good, swap them in: new collectors from the new config (the old ones stopped), new basic
// auth and headers, a new TLS certificate. On an error nothing changes, the error line is
// logged, and hostaudit_config_last_reload_successful says 0 until a reload succeeds.
import type { Request, Response, NextFunction } from 'express';
import type https from 'node:https';
import { createCollectors } from './collectors/index.js';
import { FamilyBuilder, type MetricFamily } from './collectors/metric-family.js';
import { CollectorRunner, type CollectionResult } from './collectors/run-collectors.js';
import { readSupervisorPassword, type Config } from './config.js';
import { ConfigError, HostAuditError, describeError } from './errors.js';
import { RateLimiter } from './http/rate-limit.js';
import { BasicAuth, headersMiddleware, loadWebConfig, secureContextOptions, type WebConfig } from './http/web-config.js';
import { registerSecret, type Logger } from './log.js';

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/** The web config's rate limit, headers and basic auth, as one middleware whose settings can be swapped. */
export class WebSettings {
  private chain: Middleware[] = [];
  /** The basic auth in force: its bcrypt worker is stopped when a reload replaces it. */
  private auth: BasicAuth | undefined;
  constructor(
    web: WebConfig | undefined,
    private readonly log?: Logger,
  ) {
    this.set(web);
  }

  set(web: WebConfig | undefined): void {
    const chain: Middleware[] = [];
    if (web?.rateLimit) chain.push(new RateLimiter(web.rateLimit).middleware());
    if (web && Object.keys(web.headers).length > 0) chain.push(headersMiddleware(web.headers));
    const old = this.auth;
    this.auth = web && web.basicAuthUsers.size > 0 ? new BasicAuth(web.basicAuthUsers, this.log ? { log: this.log } : {}) : undefined;
    if (this.auth) chain.push(this.auth.middleware());
    this.chain = chain;
    void old?.close();
  }

  close(): Promise<void> {
    return this.auth?.close() ?? Promise.resolve();
  }

  middleware(): Middleware {
    return (req, res, next) => {
      // The chain of the moment the request arrived, even if a reload swaps it meanwhile.
      const chain = this.chain;
      const step = (i: number): void => {
        const mw = chain[i];
        if (mw) mw(req, res, () => step(i + 1));
        else next();
      };
      step(0);
    };
  }
}

/** The collection the HTTP app serves: the current runner's, plus the reload gauges. */
export class ReloadingRunner {
  private lastOk = true;
  private lastSuccess = Date.now() / 1000;
  constructor(
    public current: CollectorRunner,
    /** The config the current runner was built from. */
    public config: Config,
  ) {}

  async collect(): Promise<CollectionResult> {
    const r = await this.current.collect();
    return { ...r, families: [...r.families, ...this.families()] };
  }

  noteReload(ok: boolean): void {
    this.lastOk = ok;
    if (ok) this.lastSuccess = Date.now() / 1000;
  }

  private families(): MetricFamily[] {
    const b = new FamilyBuilder();
    b.gauge('hostaudit_config_last_reload_successful', 'Whether the last config reload (or the start) read the config file and the web config (1) or failed (0).')({}, this.lastOk ? 1 : 0);
    b.gauge('hostaudit_config_last_reload_success_timestamp_seconds', 'When the config was last read successfully (the start or a reload), in unix seconds.')({}, this.lastSuccess);
    return b.build();
  }
}

export interface ReloadDeps {
  readConfig: () => Config;
  webConfigFile: string | undefined;
  web: WebConfig | undefined;
  webSettings: WebSettings;
  runner: ReloadingRunner;
  disabledCollectors: readonly string[];
  /** --path.procfs, for the new collectors. */
  procRoot?: string;
  /** The HTTPS server when TLS is on: its certificate is swapped in place. */
  tlsServer: https.Server | undefined;
  log: Logger;
}

export interface ReloadResult {
  ok: boolean;
  /** The one error line, when not ok. */
  error?: string;
}

/** TLS on/off and client-certificate checking are fixed when the listener starts. */
function checkTlsUnchanged(file: string, before: WebConfig | undefined, after: WebConfig | undefined): void {
  if (Boolean(before?.tls) !== Boolean(after?.tls)) {
    throw new ConfigError(file, 'tls_server_config', 'switching TLS on or off needs a restart; the running exporter keeps its old web config');
  }
  if (Boolean(before?.tls?.clientCa) !== Boolean(after?.tls?.clientCa)) {
    throw new ConfigError(file, 'tls_server_config.client_ca_file', 'switching client certificates on or off needs a restart; the running exporter keeps its old web config');
  }
}

export class Reloader {
  private web: WebConfig | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The reload waiting for the running one to end: later requests join it. */
  private waiting: Promise<ReloadResult> | undefined;
  constructor(private readonly deps: ReloadDeps) {
    this.web = deps.web;
  }

  /**
   * Reloads run one at a time; requests that arrive while one runs share the next one, so a
   * burst of SIGHUPs or POSTs costs at most two rebuilds of the collectors.
   */
  reload(): Promise<ReloadResult> {
    if (this.waiting) return this.waiting;
    const next = this.queue.then(() => {
      this.waiting = undefined;
      return this.reloadNow();
    });
    this.waiting = next;
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(): Promise<ReloadResult> {
    const d = this.deps;
    let config: Config;
    let web: WebConfig | undefined;
    try {
      config = d.readConfig();
      web = d.webConfigFile !== undefined ? loadWebConfig(d.webConfigFile) : undefined;
      if (d.webConfigFile !== undefined) checkTlsUnchanged(d.webConfigFile, this.web, web);
      registerSecret(readPassword(config));
    } catch (err) {
      if (!(err instanceof HostAuditError)) throw err;
      d.runner.noteReload(false);
      d.log.error('reload failed, keeping the old config', { err: err.message });
      return { ok: false, error: err.message };
    }
    const runner = new CollectorRunner(createCollectors({ config, log: d.log, procRoot: d.procRoot }, d.disabledCollectors), config.collectorTimeoutMs, d.log);
    const old = d.runner.current;
    d.runner.current = runner;
    d.runner.config = config;
    runner.start();
    d.webSettings.set(web);
    if (web?.tls && d.tlsServer) d.tlsServer.setSecureContext(secureContextOptions(web.tls));
    this.web = web;
    d.runner.noteReload(true);
    await old.stop();
    d.log.info('config reloaded', {
      config: config.file ?? 'built-in defaults',
      collectors: runner.collectors.map((c) => c.name).join(','),
    });
    return { ok: true };
  }
}

/** The supervisor password file must be readable now, or the new config is refused. */
function readPassword(config: Config): string | undefined {
  try {
    return readSupervisorPassword(config.supervisor);
  } catch (err) {
    throw new ConfigError(config.supervisor.passwordFile ?? 'supervisor password', undefined, `cannot read password file: ${describeError(err)}`);
  }
}
