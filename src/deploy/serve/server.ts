/**
 * The prediction service: fastify in front of one micro-batcher per model.
 *   GET  /                         where things are: the OpenAPI document, the demo, the routes
 *   GET  /openapi.json             the OpenAPI 3.1 document of every route (openapi.ts)
 *   POST /predict                  the default (first) model; {"texts"}/{"pairs"}, or HF's {"inputs"}
 *   POST /models/:name/predict     a model by name
 *   GET  /models                   names, tasks and labels of the loaded models
 *   GET  /healthz                  200 while serving, 503 while shutting down
 *   GET  /metrics                  Prometheus text
 *   GET  /demo/                    the in-browser demo (when the default model is an ONNX export)
 * Refusals are JSON `{"error": reason}`: 400 bad input, 404 unknown model, 405 wrong method (with Allow),
 * 408 too slow, 413 too large, 415 unknown content encoding, 503 queue full (decided from the headers, before
 * the body is read: admission.ts) or shutting down. close() stops taking connections, answers every request
 * already accepted, closes connections still stalled after a grace period, then releases the models.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { PredictInput, PredictOutput, Predictor } from '../predictor.js';
import { Admission, declaredLength, type AdmissionTicket } from './admission.js';
import {
  checkConnectionLimits,
  CONNECTION_DEFAULTS,
  limitedServerFactory,
  type ConnectionLimits,
} from './connection-limits.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { BatcherClosedError, MicroBatcher, QueueFullError, SubmitAbortedError } from './micro-batcher.js';
import { ServiceMetrics } from './metrics.js';
import { hfAnswer, type HfResult } from './hf-response.js';
import { isHfBody, parseHfBody } from './hf-request.js';
import { collectRoutes, openApiDocument, type DocumentedRoute, type RouteDoc } from './openapi.js';
import { ROUTE_DOCS } from './route-docs.js';
import { parsePredictBody, RequestError } from './request-body.js';
import { decodedBody } from './request-encoding.js';
import { UserError } from '../../util/errors.js';
import { firstNaN } from '../../util/finite.js';

export interface ServedModel {
  /** The name in /models/:name/predict. */
  name: string;
  predictor: Predictor;
}

export interface ServerOptions {
  models: ServedModel[];
  /** Most inputs per model call. Default 32. */
  maxBatch?: number;
  /** Longest wait for a batch to fill when the model is idle, in ms. Default 2. */
  maxWaitMs?: number;
  /** Most inputs waiting per model before requests are refused with 503. Default 1024. */
  maxQueue?: number;
  /** Model calls running at once per model. Default 1. */
  maxInFlight?: number;
  /** Largest request body in bytes (413 beyond). Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Most inputs in one request (413 beyond). Default 256. */
  maxInputs?: number;
  /** Longest text in characters (413 beyond). Default 10,000. */
  maxTextChars?: number;
  /** Most body bytes of admitted, unanswered requests (503 beyond, before reading). Default 16 MiB. */
  maxInFlightBytes?: number;
  /** Longest time a request waits, unread, for room in the queue before 503, in ms. Default 1000. */
  maxAdmissionWaitMs?: number;
  /** Longest time to receive a whole request, in ms (408 beyond). Default 30 s. */
  requestTimeoutMs?: number;
  /** Longest time to receive a request's headers, in ms. Default 10 s. */
  headersTimeoutMs?: number;
  /** An idle kept-alive connection is closed after this long, in ms. Default 72 s. */
  idleTimeoutMs?: number;
  /** Most connections open at once. Default 1024. */
  maxConnections?: number;
  /** On close(), connections still open this long after it (a stalled upload) are cut, in ms. Default 10 s. */
  shutdownGraceMs?: number;
  /** Registers extra routes (the /demo/ page) on the app before it starts. */
  plugins?: ((app: FastifyInstance) => void | Promise<void>)[];
  /** fastify's request log (default off: the service is measured by /metrics). */
  logger?: boolean;
}

export interface ModelEntry {
  name: string;
  predictor: Predictor;
  batcher: MicroBatcher<PredictInput, PredictOutput>;
}

export interface PredictionJson {
  /** The single predicted label (absent for multi-label models). */
  label?: string;
  labels: string[];
  /** Label name → probability. */
  probabilities: Record<string, number>;
}

type Limits = Required<Omit<ServerOptions, 'plugins' | 'logger' | 'models'>>;

export const SERVE_DEFAULTS = {
  maxBatch: 32,
  maxWaitMs: 2,
  maxQueue: 1024,
  maxInFlight: 1,
  bodyLimitBytes: 1 << 20,
  maxInputs: 256,
  maxTextChars: 10_000,
  maxInFlightBytes: 16 << 20,
  maxAdmissionWaitMs: 1000,
  ...CONNECTION_DEFAULTS,
  shutdownGraceMs: 10_000,
} as const;

/** The service's version in its OpenAPI document: the package's. */
const SERVICE_VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A refused request's body up to this size is read and dropped to keep its connection; larger, it closes. */
const SHED_KEEP_ALIVE_BYTES = 64 << 10;

/** The admission ticket of a prediction request, while its body is read and queued. */
const tickets = new WeakMap<FastifyRequest, AdmissionTicket>();
/** Aborted when a prediction request's client hangs up before its answer (its inputs leave the queue). */
const abandonment = new WeakMap<FastifyRequest, AbortController>();

export class PredictionServer {
  readonly metrics = new ServiceMetrics();
  private readonly entries = new Map<string, ModelEntry>();
  private closing: Promise<void> | undefined;
  private shuttingDown = false;
  private readonly admission: Admission;

  private constructor(
    readonly app: FastifyInstance,
    models: ServedModel[],
    private readonly opts: Limits,
  ) {
    this.admission = new Admission(opts, opts.maxAdmissionWaitMs);
    for (const m of models) {
      const batcher = new MicroBatcher<PredictInput, PredictOutput>({
        run: (inputs) => m.predictor.predictBatch(inputs),
        maxBatch: opts.maxBatch,
        maxWaitMs: opts.maxWaitMs,
        maxQueue: opts.maxQueue,
        maxInFlight: opts.maxInFlight,
        onBatch: (size, seconds) => {
          this.metrics.batchSize.observe({ model: m.name }, size);
          this.metrics.batchSeconds.observe({ model: m.name }, seconds);
          // The next batch is taken from the queue right after this: then there is room to admit.
          queueMicrotask(() => this.admission.wake());
        },
      });
      this.admission.addModel(m.name, () => batcher.waiting);
      this.metrics.queueDepth.track({ model: m.name }, () => batcher.waiting);
      this.entries.set(m.name, { name: m.name, predictor: m.predictor, batcher });
    }
  }

  static async create(options: ServerOptions): Promise<PredictionServer> {
    if (options.models.length === 0) throw new Error('PredictionServer: no models');
    const names = new Set<string>();
    for (const m of options.models) {
      if (!/^[A-Za-z0-9._-]+$/.test(m.name))
        throw new Error(`model name "${m.name}": use letters, digits, ".", "_" and "-" only`);
      if (names.has(m.name)) throw new Error(`model name "${m.name}" is used twice`);
      names.add(m.name);
    }
    const opts: Limits = {
      maxBatch: options.maxBatch ?? SERVE_DEFAULTS.maxBatch,
      maxWaitMs: options.maxWaitMs ?? SERVE_DEFAULTS.maxWaitMs,
      maxQueue: options.maxQueue ?? SERVE_DEFAULTS.maxQueue,
      maxInFlight: options.maxInFlight ?? SERVE_DEFAULTS.maxInFlight,
      bodyLimitBytes: options.bodyLimitBytes ?? SERVE_DEFAULTS.bodyLimitBytes,
      maxInputs: options.maxInputs ?? SERVE_DEFAULTS.maxInputs,
      maxTextChars: options.maxTextChars ?? SERVE_DEFAULTS.maxTextChars,
      maxInFlightBytes: options.maxInFlightBytes ?? SERVE_DEFAULTS.maxInFlightBytes,
      maxAdmissionWaitMs: options.maxAdmissionWaitMs ?? SERVE_DEFAULTS.maxAdmissionWaitMs,
      requestTimeoutMs: options.requestTimeoutMs ?? SERVE_DEFAULTS.requestTimeoutMs,
      headersTimeoutMs: options.headersTimeoutMs ?? SERVE_DEFAULTS.headersTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? SERVE_DEFAULTS.idleTimeoutMs,
      maxConnections: options.maxConnections ?? SERVE_DEFAULTS.maxConnections,
      shutdownGraceMs: options.shutdownGraceMs ?? SERVE_DEFAULTS.shutdownGraceMs,
    };
    checkConnectionLimits(opts);
    if (opts.maxInputs > opts.maxQueue)
      throw new UserError(
        `max inputs per request (${opts.maxInputs}) is above the queue limit (${opts.maxQueue}): such a request could never be queued`,
      );
    const app = Fastify({
      logger: options.logger ?? false,
      bodyLimit: opts.bodyLimitBytes,
      return503OnClosing: true,
      serverFactory: limitedServerFactory(opts as ConnectionLimits),
    });
    const addMethodNotAllowed = methodNotAllowed(app);
    const documented = collectRoutes(app);
    const server = new PredictionServer(app, options.models, opts);
    server.routes(documented);
    for (const plugin of options.plugins ?? []) await plugin(app);
    addMethodNotAllowed();
    await app.ready();
    return server;
  }

  /** The loaded models, the default first. */
  get models(): ModelEntry[] {
    return [...this.entries.values()];
  }

  /** Starts listening; resolves with the address (e.g. http://127.0.0.1:8080). */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    return this.app.listen({ port, host });
  }

  /**
   * Graceful shutdown: no new connections (and 503 for new requests on open ones), every accepted request
   * answered, connections still open after the grace period (a client stalled mid-upload) cut, then the
   * models released. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.shuttingDown = true;
      const cut = setTimeout(() => this.app.server.closeAllConnections(), this.opts.shutdownGraceMs);
      await this.app.close();
      clearTimeout(cut);
      await Promise.all(this.models.map((m) => m.batcher.close()));
      await Promise.all(this.models.map((m) => m.predictor.close()));
    })();
    return this.closing;
  }

  private routes(documented: readonly DocumentedRoute[]): void {
    const app = this.app;
    app.setErrorHandler((err, req, reply) => this.refuse(err, req, reply));
    app.setNotFoundHandler((req, reply) => {
      void reply.code(404).send({ error: `no route ${req.method} ${req.url}` });
    });
    // Hooks take fastify's callback form: an async hook costs a promise per request, which shows at the
    // BOW's 10k+ requests per second.
    // A kept-alive connection would hold close() open for fastify's 72 s keep-alive timeout: while shutting
    // down, every answer tells its client to close the connection.
    app.addHook('onSend', (_req, reply, payload, done) => {
      if (this.shuttingDown) void reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('onRequest', (req, reply, done) => this.admit(req, reply, done));
    app.addHook('preParsing', (req, _reply, payload, done) => {
      try {
        done(null, decodedBody(payload, req.headers['content-encoding']));
      } catch (e) {
        done(e as Error);
      }
    });
    // The body is parsed and its inputs are queued next, in this same turn of the event loop.
    app.addHook('preHandler', (req, _reply, done) => {
      const body = req.body as { texts?: unknown; pairs?: unknown; inputs?: unknown } | undefined;
      const list = body?.texts ?? body?.pairs ?? body?.inputs;
      // HF's {"inputs": "one text"} (or one pair object) is one input.
      const count = Array.isArray(list) ? list.length : list !== undefined && list === body?.inputs ? 1 : 0;
      tickets.get(req)?.queued(count);
      done();
    });
    app.addHook('onResponse', (req, reply, done) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const code = String(reply.statusCode);
      if (!route.endsWith('/predict')) this.metrics.requests.inc({ route, code });
      else {
        const model = this.modelLabel(req);
        this.metrics.requests.inc({ route, model, code });
        this.metrics.latency.observe({ model }, reply.elapsedTime / 1000);
      }
      done();
    });

    const doc = (openapi: RouteDoc) => ({ config: { openapi } });
    app.get('/', doc(ROUTE_DOCS.index), async () => ({
      service: 'alembic prediction service',
      openapi: '/openapi.json',
      ...(app.hasRoute({ method: 'GET', url: '/demo/' }) ? { demo: '/demo/' } : {}),
      routes: documented.map((r) => `${r.method} ${r.url}`),
    }));
    let document: Record<string, unknown> | undefined;
    app.get('/openapi.json', doc(ROUTE_DOCS.openapi), async () => {
      document ??= openApiDocument(documented, SERVICE_VERSION);
      return document;
    });
    app.get('/healthz', doc(ROUTE_DOCS.healthz), async () => ({
      status: 'ok',
      models: this.models.map((m) => m.name),
    }));
    app.get('/models', doc(ROUTE_DOCS.models), async () => ({
      default: this.defaultName,
      models: this.models.map((m) => ({
        name: m.name,
        task: m.predictor.task,
        labels: m.predictor.labels,
      })),
    }));
    app.get('/metrics', doc(ROUTE_DOCS.metrics), async (_req, reply) => {
      void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      return this.metrics.registry.render();
    });
    app.post('/predict', doc(ROUTE_DOCS.predict), (req) =>
      this.predict(this.entries.get(this.defaultName)!, req.body, abandonment.get(req)?.signal),
    );
    app.post<{ Params: { name: string } }>(
      '/models/:name/predict',
      doc(ROUTE_DOCS.modelPredict),
      (req, reply) => {
        const entry = this.entries.get(req.params.name);
        if (!entry) {
          void reply.code(404);
          return Promise.resolve({
            error: `no model "${req.params.name}"; loaded: ${this.models.map((m) => m.name).join(', ')}`,
          });
        }
        return this.predict(entry, req.body, abandonment.get(req)?.signal);
      },
    );
  }

  /** The model entry a POST to a prediction route asks for (undefined for other requests). */
  private predictEntry(req: FastifyRequest): ModelEntry | undefined {
    if (req.method !== 'POST') return undefined;
    const route = req.routeOptions.url;
    if (route === '/predict') return this.entries.get(this.defaultName);
    if (route === '/models/:name/predict') return this.entries.get((req.params as { name: string }).name);
    return undefined;
  }

  /**
   * Weighs a prediction request by its headers before its body is read (admission.ts): it is read when
   * the queue has room for it, and refused with 503 unread when no room comes within the admission wait.
   */
  private admit(req: FastifyRequest, reply: FastifyReply, done: () => void): void {
    const entry = this.predictEntry(req);
    const declared = declaredLength(req.headers['content-length']);
    // Bodies over the limit are fastify's to refuse (413) from the header alone.
    if (!entry || this.shuttingDown || (declared ?? 0) > this.opts.bodyLimitBytes) return done();
    let ticket: AdmissionTicket | undefined;
    let withdraw = () => {};
    const gone = new AbortController();
    abandonment.set(req, gone);
    // Whatever happens to the request — answered, refused, or its client gone while it waited.
    reply.raw.once('close', () => {
      withdraw();
      ticket?.release();
      if (!reply.raw.writableFinished) gone.abort();
    });
    withdraw = this.admission.request(entry.name, declared, (verdict) => {
      if (typeof verdict === 'string') return this.shed(entry, reply, verdict);
      ticket = verdict;
      tickets.set(req, verdict);
      done();
    });
  }

  /**
   * A 503 for a request whose body was never read. A large body still on its way would otherwise be read
   * and thrown away to keep the connection: closing it costs the client a reconnect instead.
   */
  private shed(entry: ModelEntry, reply: FastifyReply, reason: string): void {
    this.metrics.rejected.inc({ model: entry.name, reason: 'queue_full' });
    void reply.code(503).header('retry-after', '1');
    if ((declaredLength(reply.request.headers['content-length']) ?? Infinity) > SHED_KEEP_ALIVE_BYTES)
      void reply.header('connection', 'close');
    void reply.send({ error: reason });
  }

  /** The model a prediction request asked for, as a metric label ("unknown" keeps made-up names out). */
  private modelLabel(req: FastifyRequest): string {
    const asked = (req.params as { name?: string } | undefined)?.name ?? this.defaultName;
    return this.entries.has(asked) ? asked : 'unknown';
  }

  private get defaultName(): string {
    return this.entries.keys().next().value!;
  }

  private async predict(
    entry: ModelEntry,
    body: unknown,
    abandoned?: AbortSignal,
  ): Promise<{ model: string; predictions: PredictionJson[] } | HfResult | HfResult[]> {
    const task = entry.predictor.task;
    const hf = isHfBody(body) ? parseHfBody(body, task, this.opts) : undefined;
    const inputs = hf ? hf.inputs : parsePredictBody(body, task, this.opts);
    const outputs = await entry.batcher.submit(inputs, abandoned);
    this.metrics.texts.inc({ model: entry.name }, inputs.length);
    // A NaN would go out as JSON null with 200: this request fails instead (500), the batch's others not.
    outputs.forEach((o, k) => {
      if (firstNaN(o.probabilities) >= 0 || o.entities?.some((e) => Number.isNaN(e.score)))
        throw new Error(`the model computed NaN for input ${k + 1}; no prediction made`);
    });
    if (hf) return hfAnswer(task, entry.predictor.labels, hf, outputs);
    const names = entry.predictor.labels;
    const single = task !== 'multi_label_classification';
    return {
      model: entry.name,
      predictions: outputs.map((o) => {
        const probabilities: Record<string, number> = {};
        names.forEach((n, i) => (probabilities[n] = o.probabilities[i]));
        return single
          ? { label: o.labels[0], labels: o.labels, probabilities }
          : { labels: o.labels, probabilities };
      }),
    };
  }

  private refuse(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
    if (err instanceof RequestError) {
      void reply.code(err.statusCode).send({ error: err.message });
    } else if (err instanceof SubmitAbortedError) {
      // Its client is gone: there is nobody to answer.
      void reply.code(499).send({ error: err.message });
    } else if (err instanceof QueueFullError || err instanceof BatcherClosedError) {
      this.metrics.rejected.inc({
        model: this.modelLabel(req),
        reason: err instanceof QueueFullError ? 'queue_full' : 'closing',
      });
      void reply.code(503).header('retry-after', '1').send({ error: err.message });
    } else {
      const e = err as { statusCode?: number; message?: string };
      // fastify's own refusals (invalid JSON, body too large, wrong content type) carry a 4xx status.
      if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
        void reply.code(e.statusCode).send({ error: e.message ?? 'bad request' });
        return;
      }
      req.log.error(err);
      process.stderr.write(
        `alembic serve: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}\n`,
      );
      void reply.code(500).send({ error: `internal error: ${(err as Error)?.message ?? String(err)}` });
    }
  }
}
