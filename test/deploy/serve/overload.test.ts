import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission } from '../../../src/deploy/serve/admission.js';
import { PredictionServer, type ServerOptions } from '../../../src/deploy/serve/server.js';
import { FakePredictor } from '../../helpers/fake-predictor.js';
import { postHead, rawConnect, timed } from '../../helpers/raw-http.js';

async function start(opts: Partial<ServerOptions> & { models: ServerOptions['models'] }) {
  const server = await PredictionServer.create(opts);
  return { server, base: await server.listen(0, '127.0.0.1') };
}

const post = (base: string, body: unknown) =>
  fetch(base + '/predict', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every test is bounded: a server that never lets go fails its test instead of hanging the run. */
const BOUND = { timeout: 20_000 };

describe('admission before the body is read', () => {
  it('weighs a request by its declared size, learning the bytes per input', BOUND, () => {
    const a = new Admission({ maxQueue: 100, maxInputs: 100, maxInFlightBytes: 1e9, bodyLimitBytes: 1e6 }, 0);
    let waiting = 0;
    a.addModel('m', () => waiting);
    const admit = (bytes: number) => {
      let verdict: unknown;
      a.request('m', bytes, (v) => (verdict = v));
      return verdict;
    };
    // Before any request, 256 bytes an input: 25,600 bytes would be 100 inputs, a full queue.
    const t = admit(25_600) as { queued(n: number): void; release(): void };
    assert.equal(typeof t, 'object');
    assert.match(String(admit(256)), /queue limit 100/, 'the reservation fills the queue');
    t.queued(10); // the body held 10 inputs: 2,560 bytes each
    waiting = 10;
    for (let i = 0; i < 30; i++) {
      const u = admit(2_560) as { queued(n: number): void; release(): void };
      u.queued(1);
      u.release();
    }
    // The estimate has moved to ~2,560 bytes an input: 50 KB is ~20 inputs and fits beside 10 waiting.
    assert.equal(typeof admit(51_200), 'object');
  });

  it('keeps the bytes in flight within the budget, but always lets one request through', BOUND, () => {
    const a = new Admission(
      { maxQueue: 1000, maxInputs: 1000, maxInFlightBytes: 1000, bodyLimitBytes: 1e6 },
      0,
    );
    a.addModel('m', () => 0);
    const verdicts: unknown[] = [];
    a.request('m', 5000, (v) => verdicts.push(v)); // alone: over the budget but admitted
    a.request('m', 10, (v) => verdicts.push(v));
    assert.equal(typeof verdicts[0], 'object');
    assert.match(String(verdicts[1]), /5000 bytes of requests in flight, limit 1000/);
    (verdicts[0] as { release(): void }).release();
    assert.equal(a.inFlightBytes, 0);
  });

  it(
    'answers 503 with Retry-After before the body arrives when the queue cannot take it',
    BOUND,
    async () => {
      const p = new FakePredictor();
      p.hold();
      const { server, base } = await start({
        models: [{ name: 'm', predictor: p }],
        maxQueue: 4,
        maxInputs: 4,
        maxBatch: 1,
        maxAdmissionWaitMs: 0,
      });
      try {
        const first = post(base, { texts: ['a'] }); // runs (held)
        await until(() => p.batches.length === 1, 'the first batch');
        const queued = post(base, { texts: ['b', 'c', 'd', 'e'] }); // fills the queue
        await until(() => server.models[0].batcher.waiting === 4, 'a full queue');
        // A 200 KB body of which only the first bytes are sent: the answer cannot have needed the body.
        const c = await rawConnect(base, postHead('/predict', 200_000) + '{"texts": ["');
        const head = await c.waitFor(/\r\n\r\n[^]*\}/);
        assert.match(head, /^HTTP\/1\.1 503/);
        assert.match(head, /retry-after: 1/i);
        assert.match(head, /queue limit 4/);
        c.socket.destroy();
        p.release();
        assert.equal((await first).status, 200);
        assert.equal((await queued).status, 200);
      } finally {
        await server.close();
      }
    },
  );

  it('lets a request wait unread for room, then reads and answers it', BOUND, async () => {
    const p = new FakePredictor();
    p.hold();
    const { server, base } = await start({
      models: [{ name: 'm', predictor: p }],
      maxQueue: 2,
      maxInputs: 2,
      maxBatch: 2,
      maxWaitMs: 0,
      maxAdmissionWaitMs: 5000,
    });
    try {
      const first = post(base, { texts: ['a', 'b'] }); // a full batch: runs (held)
      await until(() => p.batches.length === 1, 'the first batch');
      const second = post(base, { texts: ['c', 'd'] }); // fills the queue
      await until(() => server.models[0].batcher.waiting === 2, 'a full queue');
      const third = post(base, { texts: ['good'] }); // waits for room
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(p.batches.length, 1);
      p.release();
      const answers = await Promise.all([first, second, third]);
      assert.deepEqual(
        answers.map((r) => r.status),
        [200, 200, 200],
      );
      const body = (await answers[2].json()) as { predictions: { label: string }[] };
      assert.equal(body.predictions[0].label, 'pos');
    } finally {
      await server.close();
    }
  });

  it('drops the queued inputs of a client that hung up: the model never sees them', BOUND, async () => {
    const p = new FakePredictor();
    p.hold();
    const { server, base } = await start({
      models: [{ name: 'm', predictor: p }],
      maxBatch: 1,
      maxWaitMs: 0,
    });
    try {
      const first = post(base, { texts: ['a'] });
      await until(() => p.batches.length === 1, 'the first batch');
      const body = JSON.stringify({ texts: ['abandoned', 'abandoned too'] });
      const c = await rawConnect(base, postHead('/predict', Buffer.byteLength(body)) + body);
      await until(() => server.models[0].batcher.waiting === 2, 'the abandoned inputs queued');
      c.socket.destroy();
      await until(() => server.models[0].batcher.waiting === 0, 'the queue emptied');
      p.release();
      assert.equal((await first).status, 200);
      assert.equal((await post(base, { texts: ['b'] })).status, 200);
      assert.deepEqual(
        p.batches.map((b) => b.map((x) => x.text)),
        [['a'], ['b']],
      );
    } finally {
      await server.close();
    }
  });

  it('closes connections beyond --max-connections', BOUND, async () => {
    const { server, base } = await start({
      models: [{ name: 'm', predictor: new FakePredictor() }],
      maxConnections: 2,
    });
    try {
      const held = [await rawConnect(base), await rawConnect(base)];
      const extra = await rawConnect(base, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.ok((await timed(extra.closed)) < 2000);
      assert.equal(extra.received(), '', 'the extra connection got no answer');
      held[0].socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(await held[0].waitFor(/\r\n\r\n.*\}/), /^HTTP\/1\.1 200/);
      held.forEach((c) => c.socket.destroy());
    } finally {
      await server.close();
    }
  });
});
