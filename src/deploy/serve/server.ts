/**
 * The prediction service: fastify in front of one micro-batcher per model.
 *   POST /predict                  the default (first) model
 *   POST /models/:name/predict     a model by name
 *   GET  /models                   names, tasks and labels of the loaded models
 *   GET  /healthz                  200 while serving, 503 while shutting down
 *   GET  /metrics                  Prometheus text
 *   GET  /demo/                    the in-browser demo (when the default model is an ONNX export)
 * Refusals are JSON `{"error": reason}`: 400 bad input, 404 unknown model, 413 too large, 503 queue full or
 * shutting down. close() stops taking connections, answers every request already accepted, then releases
 * the models.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { PredictInput, PredictOutput, Predictor } from '../predictor.js';
import { BatcherClosedError, MicroBatcher, QueueFullError } from './micro-batcher.js';
import { ServiceMetrics } from './metrics.js';
import { parsePredictBody, RequestError } from './request-body.js';
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
} as const;

export class PredictionServer {
  readonly metrics = new ServiceMetrics();
  private readonly entries = new Map<string, ModelEntry>();
  private closing: Promise<void> | undefined;
  private shuttingDown = false;

  private constructor(
    readonly app: FastifyInstance,
    models: ServedModel[],
    private readonly opts: Limits,
  ) {
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
        },
      });
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
    };
    if (opts.maxInputs > opts.maxQueue)
      throw new UserError(
        `max inputs per request (${opts.maxInputs}) is above the queue limit (${opts.maxQueue}): such a request could never be queued`,
      );
    const app = Fastify({
      logger: options.logger ?? false,
      bodyLimit: opts.bodyLimitBytes,
      return503OnClosing: true,
    });
    const server = new PredictionServer(app, options.models, opts);
    server.routes();
    for (const plugin of options.plugins ?? []) await plugin(app);
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
   * answered, then the models released. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.shuttingDown = true;
      await this.app.close();
      await Promise.all(this.models.map((m) => m.batcher.close()));
      await Promise.all(this.models.map((m) => m.predictor.close()));
    })();
    return this.closing;
  }

  private routes(): void {
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

    app.get('/healthz', async () => ({ status: 'ok', models: this.models.map((m) => m.name) }));
    app.get('/models', async () => ({
      default: this.defaultName,
      models: this.models.map((m) => ({
        name: m.name,
        task: m.predictor.task,
        labels: m.predictor.labels,
      })),
    }));
    app.get('/metrics', async (_req, reply) => {
      void reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      return this.metrics.registry.render();
    });
    app.post('/predict', (req) => this.predict(this.entries.get(this.defaultName)!, req.body));
    app.post<{ Params: { name: string } }>('/models/:name/predict', (req, reply) => {
      const entry = this.entries.get(req.params.name);
      if (!entry) {
        void reply.code(404);
        return Promise.resolve({
          error: `no model "${req.params.name}"; loaded: ${this.models.map((m) => m.name).join(', ')}`,
        });
      }
      return this.predict(entry, req.body);
    });
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
  ): Promise<{ model: string; predictions: PredictionJson[] }> {
    const inputs = parsePredictBody(body, entry.predictor.task, this.opts);
    const outputs = await entry.batcher.submit(inputs);
    this.metrics.texts.inc({ model: entry.name }, inputs.length);
    const names = entry.predictor.labels;
    const single = entry.predictor.task !== 'multi_label_classification';
    return {
      model: entry.name,
      predictions: outputs.map((o, k) => {
        // A NaN would go out as JSON null with 200: this request fails instead (500), the batch's others not.
        if (firstNaN(o.probabilities) >= 0)
          throw new Error(`the model computed NaN for input ${k + 1}; no prediction made`);
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
