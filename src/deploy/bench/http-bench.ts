/**
 * HTTP load test of `alembic serve`: starts the server as a child process on loopback, drives it with
 * autocannon at a fixed number of connections, bounded both in requests and in seconds, and reports
 * sustained throughput and latency. The server tokenises every text, so this is the whole service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../util/rng.js';

export interface HttpBenchOptions {
  /** The model directory to serve. */
  dir: string;
  /** Concurrent connections (each keeps one request outstanding). */
  connections: number;
  /** Stop after this many requests… */
  maxRequests: number;
  /** …or after this many seconds, whichever comes first. */
  maxSeconds: number;
  warmupSeconds: number;
  /** Texts per request (1: every request is one query). */
  textsPerRequest: number;
  /** onnxruntime threads of the served model. */
  threads: number;
  /** Extra `alembic serve` flags (batching settings). */
  serveArgs?: string[];
  /** Texts to send; by default random token strings of the model's max_len from its vocab.txt. */
  texts?: string[];
}

export interface HttpBenchResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Texts predicted per second (requests × texts per request). */
  textsPerSecond: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  connections: number;
  textsPerRequest: number;
}

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

interface AutocannonInstance {
  stop(): void;
}

type Autocannon = (
  opts: Record<string, unknown>,
  done: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

function loadAutocannon(): Autocannon {
  try {
    return createRequire(import.meta.url)('autocannon') as Autocannon;
  } catch {
    throw new Error('the HTTP load test needs autocannon (npm install autocannon)');
  }
}

/** Texts of `seq` vocabulary tokens separated by spaces (each tokeniser splits them back apart). */
export function vocabTexts(dir: string, seq: number, count: number, seed = 11): string[] {
  const tokens = readFileSync(path.join(dir, 'vocab.txt'), 'utf8')
    .split('\n')
    .map((t) => t.replace(/\r$/, ''))
    .filter((t) => t !== '' && !/^\[.*\]$/.test(t) && !t.startsWith('##'));
  const rng = new Rng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: seq }, () => tokens[rng.int(tokens.length)]).join(' '),
  );
}

const CLI = fileURLToPath(new URL('../../../bin/alembic.js', import.meta.url));

/** Starts `alembic serve` on a free loopback port; resolves once it listens. */
async function startServe(
  dir: string,
  threads: number,
  extra: string[],
): Promise<{ child: ChildProcess; url: string }> {
  const args = [CLI, 'serve', '--model', `bench=${dir}`, '--port', '0', '--host', '127.0.0.1'];
  args.push('--threads', String(threads), '--no-demo', ...extra);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`alembic serve did not start in 60 s:\n${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`alembic serve exited with ${code}:\n${err}`));
    });
  });
  return { child, url };
}

async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function runAutocannon(
  url: string,
  bodies: string[],
  connections: number,
  amount: number,
  seconds: number,
): Promise<AutocannonResult> {
  const autocannon = loadAutocannon();
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/predict`,
        connections,
        amount,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req: Record<string, unknown>) => ({
              ...req,
              body: bodies[next++ % bodies.length],
            }),
          },
        ],
      },
      (err, result) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(result);
      },
    );
    // autocannon's `amount` overrides its `duration`; the time bound is enforced here.
    const timer = setTimeout(() => instance.stop(), seconds * 1000);
  });
}

export async function httpBench(opts: HttpBenchOptions, seq: number): Promise<HttpBenchResult> {
  const texts = opts.texts ?? vocabTexts(opts.dir, seq, 256);
  const bodies: string[] = [];
  for (let i = 0; i < texts.length; i += opts.textsPerRequest) {
    const chunk = Array.from({ length: opts.textsPerRequest }, (_, k) => texts[(i + k) % texts.length]);
    bodies.push(JSON.stringify({ texts: chunk }));
  }
  const { child, url } = await startServe(opts.dir, opts.threads, opts.serveArgs ?? []);
  try {
    if (opts.warmupSeconds > 0) await runAutocannon(url, bodies, opts.connections, 1e9, opts.warmupSeconds);
    const r = await runAutocannon(url, bodies, opts.connections, opts.maxRequests, opts.maxSeconds);
    const requests = r.requests.total;
    return {
      requests,
      seconds: r.duration,
      requestsPerSecond: requests / r.duration,
      textsPerSecond: (requests * opts.textsPerRequest) / r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      connections: opts.connections,
      textsPerRequest: opts.textsPerRequest,
    };
  } finally {
    await stopServe(child);
  }
}
