/**
 * HTTP load test of `alembic serve`: starts the server as a child process on loopback, drives it with
 * wrk or autocannon (load-generator.ts) at a fixed number of connections, bounded in seconds, and reports
 * sustained throughput and latency. The server tokenises every text, so this is the whole service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../util/rng.js';
import { runLoad, type LoadGenerator } from './load-generator.js';

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
  generator: LoadGenerator;
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
  generator: LoadGenerator;
  /**
   * Texts the server answered during the measured run by its own count (/metrics), when it has one: unlike
   * the client's count, it includes the answers still on their way when the run stops.
   */
  serverTexts?: number;
  /**
   * CPU seconds the server process used during the measured run (Linux /proc), when known: on a shared
   * machine its rate per CPU second is steadier than its rate per wall-clock second.
   */
  serverCpuSeconds?: number;
  /** The server's peak resident memory in bytes over its life (Linux: VmHWM), when the system reports it. */
  serverPeakRss?: number;
}

/** A process's peak resident set size in bytes from /proc (Linux only; undefined elsewhere). */
function peakRss(pid: number | undefined): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A process's user + system CPU time in seconds from /proc (Linux only; undefined elsewhere). */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th, in 1/100 s.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** alembic serve's count of texts answered so far, or undefined for a server without /metrics. */
async function textsAnswered(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/metrics`);
    if (!res.ok) return undefined;
    let n = 0;
    for (const m of (await res.text()).matchAll(/^alembic_predicted_texts_total\{[^}]*\} (\S+)$/gm))
      n += Number(m[1]);
    return n;
  } catch {
    return undefined;
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

/**
 * Starts a server (`name` in messages) as a child process and resolves with its address once it prints
 * "listening on URL". `script` is a .js file, or a .ts file run through tsx (the source tree).
 */
async function startServer(
  name: string,
  script: string,
  args: string[],
): Promise<{ child: ChildProcess; url: string }> {
  const node = script.endsWith('.ts') ? ['--import', 'tsx', script] : [script];
  const child = spawn(process.execPath, [...node, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${err}`)), 60_000);
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
      reject(new Error(`${name} exited with ${code}:\n${err}`));
    });
  });
  return { child, url };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** The settings of a load test, whatever server it drives. */
export type LoadOptions = Omit<HttpBenchOptions, 'dir' | 'threads' | 'serveArgs'>;

/** Drives a started server with the load generator: warm-up, then the measured run. */
async function measure(
  opts: LoadOptions,
  texts: string[],
  server: { child: ChildProcess; url: string },
): Promise<HttpBenchResult> {
  const bodies: string[] = [];
  for (let i = 0; i < texts.length; i += opts.textsPerRequest) {
    const chunk = Array.from({ length: opts.textsPerRequest }, (_, k) => texts[(i + k) % texts.length]);
    bodies.push(JSON.stringify({ texts: chunk }));
  }
  try {
    const load = { url: server.url, bodies, connections: opts.connections, maxRequests: opts.maxRequests };
    if (opts.warmupSeconds > 0)
      await runLoad(opts.generator, { ...load, maxRequests: 1e9, seconds: opts.warmupSeconds });
    const before = await textsAnswered(server.url);
    const cpuBefore = cpuSeconds(server.child.pid);
    const r = await runLoad(opts.generator, { ...load, seconds: opts.maxSeconds });
    const cpuAfter = cpuSeconds(server.child.pid);
    const after = await textsAnswered(server.url);
    const serverPeakRss = peakRss(server.child.pid);
    return {
      requests: r.requests,
      seconds: r.seconds,
      requestsPerSecond: r.requests / r.seconds,
      textsPerSecond: (r.requests * opts.textsPerRequest) / r.seconds,
      p50: r.p50,
      p99: r.p99,
      errors: r.errors,
      non2xx: r.non2xx,
      connections: opts.connections,
      textsPerRequest: opts.textsPerRequest,
      generator: opts.generator,
      serverPeakRss,
      serverCpuSeconds: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined,
      serverTexts: before !== undefined && after !== undefined ? after - before : undefined,
    };
  } finally {
    await stopServer(server.child);
  }
}

/** Load-tests `alembic serve` with the model directory. */
export async function httpBench(opts: HttpBenchOptions, seq: number): Promise<HttpBenchResult> {
  const texts = opts.texts ?? vocabTexts(opts.dir, seq, 256);
  const args = ['serve', '--model', `bench=${opts.dir}`, '--port', '0', '--host', '127.0.0.1'];
  args.push('--threads', String(opts.threads), '--no-demo', ...(opts.serveArgs ?? []));
  return measure(opts, texts, await startServer('alembic serve', CLI, args));
}

/** The floor server next to this module: floor-server.ts in the source tree, floor-server.js once compiled. */
function floorServerScript(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`./floor-server${ext}`, import.meta.url));
}

/**
 * Load-tests fastify answering a fixed prediction per text (floor-server.ts) with the same texts and
 * settings: the most any model could sustain behind alembic serve's HTTP stack on this machine.
 */
export async function httpFloorBench(opts: LoadOptions & { texts: string[] }): Promise<HttpBenchResult> {
  return measure(opts, opts.texts, await startServer('the floor server', floorServerScript(), []));
}
