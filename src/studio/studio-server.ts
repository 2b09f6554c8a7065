/**
 * `alembic studio`'s server: a fastify app over one workspace, serving the built page (dist/studio-ui) and
 * the JSON API the page calls (docs/studio-api.md). Long work runs as jobs in child processes
 * (job-manager.ts), so requests are answered while a model trains. Errors are `{error: "one line"}` with a
 * 4xx status; only JSON and (for uploads) application/octet-stream bodies are accepted, so a form on another
 * site cannot post to the studio without the browser asking first.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { UserError } from '../util/errors.js';
import { asUserError } from '../util/system-error.js';
import { accessToken, installAccessCheck, isLoopback } from './access-token.js';
import { registerAdviceRoutes } from './advice-routes.js';
import { registerFileRoutes } from './file-routes.js';
import { JobManager } from './job-manager.js';
import { registerRunRoutes } from './run-routes.js';
import { StudioDb } from './studio-db.js';
import { StudioHttpError, Workspace } from './workspace.js';

export interface StudioOptions {
  workspace: string;
  host?: string;
  /** Largest upload in bytes (413 beyond). */
  maxUploadBytes?: number;
  /** The built front end (default: dist/studio-ui of this package). */
  uiDir?: string;
  /** Seconds of timing per batch size in export jobs. */
  benchSeconds?: number;
}

export const STUDIO_DEFAULTS = { port: 7860, host: '127.0.0.1', maxUploadBytes: 200 * 1024 * 1024 };

/** What route modules share. */
export interface StudioContext {
  ws: Workspace;
  db: StudioDb;
  jobs: JobManager;
  maxUploadBytes: number;
  benchSeconds: number;
  version: string;
}

export interface Studio {
  app: FastifyInstance;
  ctx: StudioContext;
  /** The access token, when the bind needs one (a non-loopback host). */
  token?: string;
  /** Jobs a previous studio left running, now marked interrupted. */
  interrupted: number[];
  listen(port: number): Promise<string>;
  /** Stops the jobs (recorded as interrupted, resumable) and the server. */
  close(): Promise<void>;
}

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

export async function createStudio(opts: StudioOptions): Promise<Studio> {
  const host = opts.host ?? STUDIO_DEFAULTS.host;
  const ws = new Workspace(opts.workspace);
  const db = new StudioDb(ws.stateDir);
  const interrupted = db.markInterrupted();
  const jobs = new JobManager(db, ws.root);
  const maxUploadBytes = opts.maxUploadBytes ?? STUDIO_DEFAULTS.maxUploadBytes;
  const ctx: StudioContext = {
    ws,
    db,
    jobs,
    maxUploadBytes,
    benchSeconds: opts.benchSeconds ?? 2,
    version: packageVersion(),
  };
  const token = isLoopback(host) ? undefined : accessToken(ws.stateDir);

  const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? {} : JSON.parse(body as string));
    } catch {
      done(new UserError('the request body is not valid JSON'), undefined);
    }
  });
  // Uploads are streamed to disk by their route (file-routes.ts), never held in memory.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
  installAccessCheck(app, token);
  app.setErrorHandler((err, _req, reply) => {
    const e = asUserError(err);
    if (e instanceof StudioHttpError) return reply.code(e.statusCode).send({ error: e.message });
    if (e instanceof UserError) return reply.code(400).send({ error: firstLine(e.message) });
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send({ error: firstLine((err as Error).message) });
    reply.log.error(err);
    return reply.code(500).send({ error: `internal error: ${firstLine((err as Error).message)}` });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: `no such route: ${req.method} ${req.url.split('?')[0]}` }),
  );

  app.get('/api/health', async () => ({ version: ctx.version }));
  registerFileRoutes(app, ctx);
  registerAdviceRoutes(app, ctx);
  registerRunRoutes(app, ctx);
  await registerPage(app, opts.uiDir ?? path.join(PACKAGE_ROOT, 'dist', 'studio-ui'));

  return {
    app,
    ctx,
    token,
    interrupted,
    async listen(port) {
      return app.listen({ port, host });
    },
    async close() {
      await jobs.closeAll();
      await app.close();
      db.close();
    },
  };
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}

/** The built page, or a page saying how to build it. */
async function registerPage(app: FastifyInstance, uiDir: string): Promise<void> {
  if (existsSync(path.join(uiDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: uiDir, prefix: '/', wildcard: true });
    return;
  }
  app.get('/', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><meta charset="utf-8"><title>alembic studio</title>' +
          '<h1>alembic studio</h1><p>The page is not built: run <code>npm run build:studio</code> ' +
          '(it writes dist/studio-ui), then reload. The API answers under <code>/api/</code>.</p>',
      ),
  );
}
