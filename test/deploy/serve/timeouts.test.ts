import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PredictionServer, type ServerOptions } from '../../../src/deploy/serve/server.js';
import { FakePredictor } from '../../helpers/fake-predictor.js';
import { postHead, rawConnect, timed } from '../../helpers/raw-http.js';
import { trainTinyBow } from '../../helpers/tiny-export.js';

const CLI = fileURLToPath(new URL('../../../bin/alembic.js', import.meta.url));

async function start(opts: Partial<ServerOptions>) {
  const server = await PredictionServer.create({
    models: [{ name: 'm', predictor: new FakePredictor() }],
    ...opts,
  });
  return { server, base: await server.listen(0, '127.0.0.1') };
}

/** `p`, or a rejection after `ms` (so a server that never lets go fails the test instead of hanging it). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${ms} ms`)), ms);
    }),
  ]);
}

/** Every test is bounded: a server that never lets go fails its test instead of hanging the run. */
const BOUND = { timeout: 20_000 };

describe('slow and stalled clients', () => {
  it('closes a connection whose body stalls, after the request timeout, with 408', BOUND, async () => {
    const { server, base } = await start({ requestTimeoutMs: 400, headersTimeoutMs: 200 });
    try {
      const c = await rawConnect(base, postHead('/predict', 1000) + '{"texts": ["half');
      const ms = await timed(within(c.closed, 4000, 'the stalled upload'));
      assert.ok(ms >= 300, `closed after ${ms.toFixed(0)} ms, before the timeout`);
      assert.match(c.received(), /^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });

  it('closes a connection whose headers never end, after the header timeout', BOUND, async () => {
    const { server, base } = await start({ requestTimeoutMs: 5000, headersTimeoutMs: 300 });
    try {
      const c = await rawConnect(base, 'POST /predict HTTP/1.1\r\nHost: x\r\n');
      const ms = await timed(within(c.closed, 3000, 'the unfinished headers'));
      assert.ok(ms >= 200, `closed after ${ms.toFixed(0)} ms`);
    } finally {
      await server.close();
    }
  });

  it('closes an idle kept-alive connection after the idle timeout', BOUND, async () => {
    const { server, base } = await start({ idleTimeoutMs: 300 });
    try {
      const c = await rawConnect(base, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitFor(/\r\n\r\n\{.*\}/);
      const ms = await timed(within(c.closed, 3000, 'the idle connection'));
      assert.ok(ms >= 200, `closed after ${ms.toFixed(0)} ms`);
    } finally {
      await server.close();
    }
  });

  it('refuses a header timeout longer than the request timeout', BOUND, async () => {
    await assert.rejects(
      PredictionServer.create({
        models: [{ name: 'm', predictor: new FakePredictor() }],
        requestTimeoutMs: 1000,
        headersTimeoutMs: 2000,
      }),
      /header timeout \(2000 ms\) is longer than the request timeout \(1000 ms\)/,
    );
  });

  it(
    'on close, answers an accepted request, then cuts a stalled upload after the grace period',
    BOUND,
    async () => {
      const p = new FakePredictor();
      p.hold();
      const server = await PredictionServer.create({
        models: [{ name: 'm', predictor: p }],
        shutdownGraceMs: 300,
        requestTimeoutMs: 60_000,
        maxWaitMs: 0,
      });
      const base = await server.listen(0, '127.0.0.1');
      const accepted = fetch(base + '/predict', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts: ['good'] }),
      });
      while (p.batches.length === 0) await new Promise((r) => setTimeout(r, 5));
      const stalled = await rawConnect(base, postHead('/predict', 1000) + '{"texts": [');
      await new Promise((r) => setTimeout(r, 50));
      const closing = server.close();
      setTimeout(() => p.release(), 100);
      const ms = await timed(within(closing, 3000, 'close() with a stalled upload'));
      assert.ok(ms >= 250, `close() returned after ${ms.toFixed(0)} ms, before the grace period`);
      assert.equal((await accepted).status, 200);
      await within(stalled.closed, 1000, 'the stalled connection');
    },
  );

  it(
    '`alembic serve` exits 0 on SIGTERM while a client holds a half-sent body',
    { timeout: 180_000 },
    async () => {
      const { exportDir } = await trainTinyBow({ examples: 60, epochs: 1, width: 8, maxLen: 16 });
      const child = spawn(
        process.execPath,
        [CLI, 'serve', '--model', exportDir, '--port', '0', '--no-demo', '--shutdown-grace-ms', '500'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const base = await within(
        new Promise<string>((resolve) =>
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /listening on (http:\/\/\S+)/.exec(out);
            if (m) resolve(m[1]);
          }),
        ),
        60_000,
        'serve to start',
      );
      const stalled = await rawConnect(base, postHead('/predict', 5000) + '{"texts": ["酒店');
      await new Promise((r) => setTimeout(r, 100));
      child.kill('SIGTERM');
      let code: number | null = null;
      const ms = await timed(
        within(
          exited.then((c) => (code = c)),
          10_000,
          'serve to exit',
        ),
      );
      assert.equal(code, 0, err);
      assert.ok(ms >= 400, `exited after ${ms.toFixed(0)} ms, before the grace period`);
      await within(stalled.closed, 1000, 'the stalled connection');
    },
  );
});
