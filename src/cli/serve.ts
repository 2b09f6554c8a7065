/**
 * `alembic serve`: the prediction service over HTTP (see src/deploy/serve/server.ts), with the in-browser
 * demo at /demo/. Runs until SIGINT/SIGTERM, then finishes the requests it has accepted, cuts connections
 * still stalled after --shutdown-grace-ms, and exits 0.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { openPredictor } from '../deploy/open-predictor.js';
import { PredictionServer, SERVE_DEFAULTS, type ServedModel } from '../deploy/serve/server.js';
import { registerDemoRoutes } from '../deploy/web/demo-routes.js';
import { UserError } from '../util/errors.js';
import { nonNegativeInt, positiveInt, runCommand } from './run.js';

export interface ModelArg {
  name: string;
  dir: string;
}

const NAME = /^[A-Za-z0-9._-]+$/;

/** `name=DIR` or a bare `DIR` (named after its folder). */
export function parseModelArg(arg: string): ModelArg {
  const eq = arg.indexOf('=');
  if (eq > 0 && NAME.test(arg.slice(0, eq)) && !existsSync(arg)) {
    return { name: arg.slice(0, eq), dir: arg.slice(eq + 1) };
  }
  const name = path.basename(path.resolve(arg)).replace(/[^A-Za-z0-9._-]/g, '_');
  return { name, dir: arg };
}

interface ServeFlags {
  model: string[];
  port: number;
  host: string;
  threads: number;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  maxInFlight: number;
  maxInputs: number;
  maxTextChars: number;
  bodyLimit: number;
  maxInFlightBytes: number;
  maxAdmissionWaitMs: number;
  maxConnections: number;
  requestTimeoutMs: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  shutdownGraceMs: number;
  demo: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve predictions over HTTP: POST /predict, /models/:name/predict; GET /, /openapi.json, /models, /healthz, /metrics, /demo/',
    )
    .requiredOption(
      '-m, --model <[name=]dir>',
      'an exported (or trained) model directory; repeat to serve several, the first is the default',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('-p, --port <n>', 'port (0 picks a free one)', nonNegativeInt('--port'), 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--threads <n>', 'onnxruntime/libtorch threads per model', positiveInt('--threads'), 1)
    .option(
      '--max-batch <n>',
      'most inputs per model call',
      positiveInt('--max-batch'),
      SERVE_DEFAULTS.maxBatch,
    )
    .option(
      '--max-wait-ms <n>',
      'longest wait for a batch to fill when the model is idle',
      nonNegativeInt('--max-wait-ms'),
      SERVE_DEFAULTS.maxWaitMs,
    )
    .option(
      '--max-queue <n>',
      'inputs waiting per model before 503',
      positiveInt('--max-queue'),
      SERVE_DEFAULTS.maxQueue,
    )
    .option(
      '--max-in-flight <n>',
      'model calls at once per model',
      positiveInt('--max-in-flight'),
      SERVE_DEFAULTS.maxInFlight,
    )
    .option(
      '--max-inputs <n>',
      'most inputs per request (413 beyond)',
      positiveInt('--max-inputs'),
      SERVE_DEFAULTS.maxInputs,
    )
    .option(
      '--max-text-chars <n>',
      'longest text in characters (413 beyond)',
      positiveInt('--max-text-chars'),
      SERVE_DEFAULTS.maxTextChars,
    )
    .option(
      '--body-limit <bytes>',
      'largest request body (413 beyond)',
      positiveInt('--body-limit'),
      SERVE_DEFAULTS.bodyLimitBytes,
    )
    .option(
      '--max-in-flight-bytes <bytes>',
      'most request-body bytes being read or answered at once (503 beyond, before reading)',
      positiveInt('--max-in-flight-bytes'),
      SERVE_DEFAULTS.maxInFlightBytes,
    )
    .option(
      '--max-admission-wait-ms <n>',
      'longest a request waits, unread, for room in the queue before 503 (0: at once)',
      nonNegativeInt('--max-admission-wait-ms'),
      SERVE_DEFAULTS.maxAdmissionWaitMs,
    )
    .option(
      '--max-connections <n>',
      'most connections open at once (more are closed)',
      positiveInt('--max-connections'),
      SERVE_DEFAULTS.maxConnections,
    )
    .option(
      '--request-timeout-ms <n>',
      'longest time to receive a whole request (408 beyond)',
      positiveInt('--request-timeout-ms'),
      SERVE_DEFAULTS.requestTimeoutMs,
    )
    .option(
      '--header-timeout-ms <n>',
      "longest time to receive a request's headers",
      positiveInt('--header-timeout-ms'),
      SERVE_DEFAULTS.headersTimeoutMs,
    )
    .option(
      '--idle-timeout-ms <n>',
      'an idle kept-alive connection is closed after this long',
      positiveInt('--idle-timeout-ms'),
      SERVE_DEFAULTS.idleTimeoutMs,
    )
    .option(
      '--shutdown-grace-ms <n>',
      'on SIGTERM/SIGINT, connections still open after this long (stalled uploads) are closed',
      nonNegativeInt('--shutdown-grace-ms'),
      SERVE_DEFAULTS.shutdownGraceMs,
    )
    .option('--no-demo', 'do not serve the in-browser demo page at /demo/')
    .action((flags: ServeFlags) => runCommand(() => serve(flags))());
}

async function serve(flags: ServeFlags): Promise<void> {
  // commander counts the repeatable flag's default [] as given, so a missing --model arrives here.
  if (flags.model.length === 0)
    throw new UserError('serve: give at least one --model DIR (an exported or trained model directory)');
  const args = flags.model.map(parseModelArg);
  const seen = new Set<string>();
  for (const a of args) {
    if (seen.has(a.name))
      throw new UserError(`--model: the name "${a.name}" is used twice; name them: --model name=DIR`);
    seen.add(a.name);
  }
  const models: ServedModel[] = [];
  for (const a of args)
    models.push({ name: a.name, predictor: await openPredictor(a.dir, { threads: flags.threads }) });
  const server = await PredictionServer.create({
    models,
    maxBatch: flags.maxBatch,
    maxWaitMs: flags.maxWaitMs,
    maxQueue: flags.maxQueue,
    maxInFlight: flags.maxInFlight,
    maxInputs: flags.maxInputs,
    maxTextChars: flags.maxTextChars,
    bodyLimitBytes: flags.bodyLimit,
    maxInFlightBytes: flags.maxInFlightBytes,
    maxAdmissionWaitMs: flags.maxAdmissionWaitMs,
    maxConnections: flags.maxConnections,
    requestTimeoutMs: flags.requestTimeoutMs,
    headersTimeoutMs: flags.headerTimeoutMs,
    idleTimeoutMs: flags.idleTimeoutMs,
    shutdownGraceMs: flags.shutdownGraceMs,
    plugins: flags.demo ? [(app) => registerDemoRoutes(app, args)] : [],
  });
  let address: string;
  try {
    address = await server.listen(flags.port, flags.host);
  } catch (e) {
    await server.close();
    throw new UserError(`cannot listen on ${flags.host}:${flags.port}: ${(e as Error).message}`);
  }
  const names = models.map((m, i) => `${m.name}${i === 0 ? ' (default)' : ''} [${m.predictor.task}]`);
  // One write, so whoever waits for the "listening on" line gets the model list with it.
  process.stdout.write(
    `alembic serve: listening on ${address}\n  models: ${names.join(', ')}\n` +
      (flags.demo ? `  demo: ${address}/demo/\n` : ''),
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write(`alembic serve: ${signal} again, exiting without waiting\n`);
        process.exit(1);
      }
      stopping = true;
      process.stderr.write(`alembic serve: ${signal}: finishing accepted requests…\n`);
      void server.close().then(resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  process.stderr.write('alembic serve: stopped\n');
}
