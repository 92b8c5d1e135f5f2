// Runs the exporter: collectors, HTTP server, graceful shutdown.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServeOptions } from './cli.js';
import { createCollectors } from './collectors/index.js';
import { CollectorRunner } from './collectors/run-collectors.js';
import type { Config } from './config.js';
import { ServeError, describeError } from './errors.js';
import { SelfMetrics } from './http/exposition.js';
import { createApp, setReady } from './http/server.js';
import { LiveAudit } from './http/audit-page.js';
import { ConnectionGuard } from './http/connection-guard.js';
import { connectionCap, readNofileLimit } from './http/fd-limit.js';
import { enforceClientCertificates, loadWebConfig, tlsServerOptions } from './http/web-config.js';
import { parseListenAddress } from './cli.js';
import type { Logger } from './log.js';
import { ReloadingRunner, Reloader, WebSettings, type ReloadResult } from './reload.js';
import { exporterVersion } from './version.js';

export interface RunningExporter {
  server: http.Server | https.Server;
  runner: CollectorRunner;
  address: AddressInfo;
  /** Stops background work and the server; resolves when both have stopped. */
  close(): Promise<void>;
  /** Reads the config and web config again (SIGHUP, POST /-/reload); keeps the old ones on an error. */
  reload(): Promise<ReloadResult>;
}

/** Shutdown waits this long for in-flight requests before cutting connections. */
const SHUTDOWN_GRACE_MS = 1500;

export async function startExporter(opts: ServeOptions, config: Config, log: Logger, readConfig: () => Config = () => config): Promise<RunningExporter> {
  const version = exporterVersion();
  // Read and checked before anything starts: a bad web config is exit 2 with nothing running.
  const web = opts.webConfigFile !== undefined ? loadWebConfig(opts.webConfigFile) : undefined;
  const webSettings = new WebSettings(web, log);
  const before = [webSettings.middleware()];
  const collectors = createCollectors({ config, log, procRoot: opts.procfs }, opts.disabledCollectors);
  const runner = new ReloadingRunner(new CollectorRunner(collectors, config.collectorTimeoutMs, log), config);
  // The live /audit page reads the current runner and config, so it follows a reload.
  const audit = new LiveAudit(runner, version);
  let reloader: Reloader | undefined;
  let closing: Promise<void> | undefined;
  // A reload asked for during shutdown would start collectors nobody stops.
  const reload = (): Promise<ReloadResult> =>
    closing || !reloader ? Promise.resolve({ ok: false, error: 'the exporter is shutting down' }) : reloader.reload();
  const app = createApp({ runner, self: new SelfMetrics(version), log, telemetryPath: opts.telemetryPath, version, before, reload, audit });
  // Bounded header size and time (a slow or oversized request cannot hold a connection), checked
  // every second rather than Node's default 30 s.
  const limits: http.ServerOptions = {
    requestTimeout: 30_000,
    headersTimeout: 10_000,
    maxHeaderSize: 16 * 1024,
    connectionsCheckingInterval: 1000,
  };
  // Connections are capped below the fd limit and bounded in pipelining, silence and unread output.
  const guard = new ConnectionGuard({ maxConnections: connectionCap(readNofileLimit()) });
  const handler = guard.wrap(app);
  const server = web?.tls ? https.createServer({ ...limits, ...tlsServerOptions(web.tls) }, handler) : http.createServer(limits, handler);
  guard.attach(server);
  if (web?.tls && server instanceof https.Server) enforceClientCertificates(server, web.tls);
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 100;

  const { host, port } = parseListenAddress(opts.listenAddress);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // Node says "listen EADDRINUSE: address already in use 127.0.0.1:9863"; keep code and reason.
      const reason = err.code ? `${err.code}: ${err.message.replace(/^listen \S+: /, '').replace(/ \S+$/, '')}` : describeError(err);
      reject(new ServeError(`cannot listen on ${opts.listenAddress}: ${reason}`));
    });
    server.listen({ host, port }, resolve);
  });
  const address = server.address() as AddressInfo;
  reloader = new Reloader({
    readConfig,
    webConfigFile: opts.webConfigFile,
    web,
    webSettings,
    runner,
    disabledCollectors: opts.disabledCollectors ?? [],
    procRoot: opts.procfs,
    tlsServer: web?.tls ? (server as https.Server) : undefined,
    log,
  });
  runner.current.start();
  setReady(app, true);
  log.info('listening', {
    address: `${address.address}:${address.port}`,
    telemetry_path: opts.telemetryPath,
    config: config.file ?? 'built-in defaults',
    collectors: collectors.map((c) => c.name).join(','),
    version,
    tls: web?.tls ? 'on' : 'off',
    basic_auth: web && web.basicAuthUsers.size > 0 ? 'on' : 'off',
    max_connections: guard.maxConnections,
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      setReady(app, false);
      const stopped = runner.current.stop();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        t.unref();
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
        server.closeIdleConnections();
      });
      await stopped;
      await webSettings.close();
    })();
    return closing;
  };
  return {
    server,
    get runner() {
      return runner.current;
    },
    address,
    close,
    reload,
  };
}
