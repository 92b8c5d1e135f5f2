// The express app: /metrics (Prometheus text or OpenMetrics), "/", /-/healthy, /-/ready.
import express, { type Request, type Response, type NextFunction } from 'express';
import type { CollectionResult } from '../collectors/run-collectors.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { BodyRenderer, negotiate, type SelfMetrics } from './exposition.js';
import { landingPage } from './landing-page.js';
import type { LiveAudit } from './audit-page.js';
import { loadRunbooksPage } from './runbooks-page.js';

export interface AppOptions {
  runner: { collect(): Promise<CollectionResult> };
  self?: SelfMetrics;
  log: Logger;
  telemetryPath: string;
  version: string;
  /** Scrapes allowed to wait for a collection at once; more get 503 (the collection is shared anyway). */
  maxConcurrentScrapes?: number;
  /** Extra middleware run before every route (basic auth from --web.config.file). */
  before?: Array<(req: Request, res: Response, next: NextFunction) => void>;
  /** GET /audit, the live audit report page (behind the same `before` middleware as /metrics). */
  audit?: LiveAudit;
  /** POST /-/reload: re-read the config files (the only request that changes anything). */
  reload?: () => Promise<{ ok: boolean; error?: string }>;
}

export function createApp(opts: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  let ready = false;
  let waiting = 0;
  const maxWaiting = opts.maxConcurrentScrapes ?? 64;
  const bodies = new BodyRenderer(opts.self);

  app.use((req, res, next) => {
    // Every endpoint is read-only, but for POST /-/reload.
    const reloading = req.method === 'POST' && req.path === '/-/reload' && opts.reload !== undefined;
    if (req.method !== 'GET' && req.method !== 'HEAD' && !reloading) {
      res.set('Allow', 'GET, HEAD').status(405).type('text/plain').send('Method Not Allowed\n');
      return;
    }
    // No endpoint reads a request body: one that is announced is refused, never buffered,
    // and the connection is closed so the unread body cannot be taken for the next request.
    if (req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0) {
      res.set('Connection', 'close').status(413).type('text/plain').send('Request Entity Too Large\n');
      return;
    }
    next();
  });
  for (const mw of opts.before ?? []) app.use(mw);

  app.get(opts.telemetryPath, async (req, res) => {
    if (waiting >= maxWaiting) {
      res.status(503).set('Retry-After', '1').type('text/plain').send('too many concurrent scrapes\n');
      return;
    }
    waiting++;
    try {
      const collection = await opts.runner.collect();
      const contentType = negotiate(req.get('accept'));
      const body = await bodies.once(collection, contentType);
      res.status(200).set('Content-Type', contentType).send(body);
    } catch (err) {
      opts.log.error('scrape failed', { err: describeError(err) });
      res.status(500).type('text/plain').send('error collecting metrics\n');
    } finally {
      waiting--;
    }
  });
  app.post('/-/reload', (_req, res) => {
    // As Prometheus: 200 when the new config is in, 500 with the error line when the old one stays.
    (opts.reload as NonNullable<AppOptions['reload']>)().then(
      (r) => {
        if (r.ok) res.status(200).type('text/plain').send('Reloaded.\n');
        else res.status(500).type('text/plain').send(`failed to reload config: ${r.error ?? 'unknown error'}\n`);
      },
      (err: unknown) => {
        opts.log.error('reload failed', { err: describeError(err) });
        res.status(500).type('text/plain').send('failed to reload config\n');
      },
    );
  });
  app.get('/-/healthy', (_req, res) => {
    res.status(200).type('text/plain').send('Healthy.\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (ready) res.status(200).type('text/plain').send('Ready.\n');
    else res.status(503).type('text/plain').send('Not ready.\n');
  });
  if (opts.audit) app.get('/audit', opts.audit.handler(opts.log));
  // The alerts' runbook_url points here by default.
  const runbooks = loadRunbooksPage();
  if (runbooks !== undefined) {
    app.get('/runbooks', (_req, res) => {
      res.status(200).set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'").type('html').send(runbooks);
    });
  }
  app.get('/', (_req, res) => {
    res.status(200).type('html').send(landingPage(opts.version, opts.telemetryPath, opts.audit !== undefined, runbooks !== undefined));
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not Found\n');
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    opts.log.debug('request error', { err: describeError(err) });
    if (!res.headersSent) res.status(400).type('text/plain').send('Bad Request\n');
  });
  app.locals.setReady = (v: boolean): void => {
    ready = v;
  };
  return app;
}

export function setReady(app: express.Express, v: boolean): void {
  (app.locals.setReady as (v: boolean) => void)(v);
}
