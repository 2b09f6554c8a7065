/**
 * The load generators of the HTTP benchmark, behind one interface: POST the given JSON bodies (in turn)
 * to a URL over `connections` keep-alive connections, for at most `seconds`, and report the totals.
 *
 * wrk (Debian's `wrk`, C, epoll) is preferred when installed: on a 2-core machine the generator shares the
 * cores with the server, and autocannon (Node) spends about a core of its own at 10k req/s, so with it the
 * benchmark measures the generator as much as the service. autocannon (npm) is the fallback that needs no
 * system package.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../util/errors.js';

export const LOAD_GENERATORS = ['wrk', 'autocannon'] as const;
export type LoadGenerator = (typeof LOAD_GENERATORS)[number];

export interface LoadRun {
  url: string;
  /** JSON request bodies, sent in turn (none may contain a newline). */
  bodies: string[];
  connections: number;
  /** Stop after this many requests (autocannon only; wrk runs for `seconds`)… */
  maxRequests: number;
  /** …or after this many seconds. */
  seconds: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
}

/** wrk when it is on the PATH, else autocannon. */
export function defaultLoadGenerator(): LoadGenerator {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return 'wrk';
  } catch (e) {
    // wrk --version prints its usage and exits 1: it is there. ENOENT: it is not.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'autocannon' : 'wrk';
  }
}

/** A `--load-generator` value: one of LOAD_GENERATORS, or the default when absent. */
export function parseLoadGenerator(name: string | undefined): LoadGenerator {
  if (name === undefined) return defaultLoadGenerator();
  if (!(LOAD_GENERATORS as readonly string[]).includes(name))
    throw new UserError(`--load-generator: expected ${LOAD_GENERATORS.join(' or ')}, got "${name}"`);
  return name as LoadGenerator;
}

export function runLoad(generator: LoadGenerator, run: LoadRun): Promise<LoadResult> {
  return generator === 'wrk' ? runWrk(run) : runAutocannon(run);
}

// ------------------------------------------------------------------------------------------------ wrk

/**
 * wrk's Lua hooks: `request` cycles through the bodies (one per line of a file), `done` prints the
 * totals as one JSON line (latency in microseconds), so nothing depends on wrk's human-readable report.
 */
const WRK_SCRIPT = `
local bodies = {}
for line in io.lines(os.getenv("ALEMBIC_WRK_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'ALEMBIC {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
`;

async function runWrk(run: LoadRun): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-wrk-'));
  try {
    const script = path.join(dir, 'post.lua');
    const bodies = path.join(dir, 'bodies.txt');
    writeFileSync(script, WRK_SCRIPT);
    writeFileSync(bodies, run.bodies.join('\n') + '\n');
    // One wrk thread: epoll in C keeps up with a Node server on one core, and leaves the other to it.
    const args = ['-t1', `-c${run.connections}`, `-d${Math.max(1, Math.round(run.seconds))}s`];
    args.push('--timeout', '30s', '-s', script, `${run.url}/predict`);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, {
        env: { ...process.env, ALEMBIC_WRK_BODIES: bodies },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`wrk exited with ${code}:\n${stderr}${stdout}`)),
      );
    });
    const line = /^ALEMBIC (\{.*\})$/m.exec(out);
    if (!line) throw new Error(`wrk printed no summary:\n${out}`);
    const r = JSON.parse(line[1]) as Record<string, number>;
    return {
      requests: r.requests,
      seconds: r.duration_us / 1e6,
      p50: r.p50_us / 1000,
      p99: r.p99_us / 1000,
      errors: r.errors,
      non2xx: r.non2xx,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----------------------------------------------------------------------------------------- autocannon

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

type Autocannon = (
  opts: Record<string, unknown>,
  done: (err: Error | null, result: AutocannonResult) => void,
) => { stop(): void };

function loadAutocannon(): Autocannon {
  try {
    return createRequire(import.meta.url)('autocannon') as Autocannon;
  } catch {
    throw new Error('the HTTP load test needs autocannon (npm install autocannon) or wrk (apt install wrk)');
  }
}

function runAutocannon(run: LoadRun): Promise<LoadResult> {
  const autocannon = loadAutocannon();
  let next = 0;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${run.url}/predict`,
        connections: run.connections,
        amount: run.maxRequests,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req: Record<string, unknown>) => ({
              ...req,
              body: run.bodies[next++ % run.bodies.length],
            }),
          },
        ],
      },
      (err, r) => {
        clearTimeout(timer);
        if (err) reject(err);
        else
          resolve({
            requests: r.requests.total,
            seconds: r.duration,
            p50: r.latency.p50,
            p99: r.latency.p99,
            errors: r.errors + r.timeouts,
            non2xx: r.non2xx,
          });
      },
    );
    // autocannon's `amount` overrides its `duration`; the time bound is enforced here.
    const timer = setTimeout(() => instance.stop(), run.seconds * 1000);
  });
}
