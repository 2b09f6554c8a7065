import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MicroBatcher, QueueFullError } from '../../src/deploy/serve/micro-batcher.js';
import { Counter, Histogram, Registry } from '../../src/deploy/serve/metrics.js';
import { PredictionServer, type ServerOptions } from '../../src/deploy/serve/server.js';
import { FakePredictor } from '../helpers/fake-predictor.js';

async function startServer(opts: Partial<ServerOptions> & { models: ServerOptions['models'] }) {
  const server = await PredictionServer.create(opts);
  const base = await server.listen(0, '127.0.0.1');
  return { server, base };
}

function post(base: string, path: string, body: unknown, raw?: string) {
  return fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(body),
  });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('MicroBatcher', () => {
  it('merges items submitted together into one batch, never above maxBatch', async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>({
      run: async (xs) => {
        calls.push(xs);
        return xs.map((x) => x * 10);
      },
      maxBatch: 4,
      maxWaitMs: 5,
      maxQueue: 100,
    });
    const results = await Promise.all([b.submit([1, 2]), b.submit([3]), b.submit([4, 5, 6])]);
    assert.deepEqual(results, [[10, 20], [30], [40, 50, 60]]);
    // 6 items, batches of at most 4: the first full batch [1..4] starts at once, [5, 6] after it.
    assert.deepEqual(calls, [
      [1, 2, 3, 4],
      [5, 6],
    ]);
  });

  it('refuses a submit that would overfill the queue, all or nothing', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number, number>({
      run: async (xs) => {
        await gate;
        return xs;
      },
      maxBatch: 2,
      maxWaitMs: 0,
      maxQueue: 3,
    });
    const first = b.submit([1, 2]); // dispatched at once (full batch): running, not waiting
    const second = b.submit([3, 4]); // waits (2 of 3)
    await assert.rejects(b.submit([5, 6]), QueueFullError); // 2 + 2 > 3
    const third = b.submit([7]); // 3 of 3 fits
    assert.equal(b.waiting, 3);
    release();
    assert.deepEqual(await Promise.all([first, second, third]), [[1, 2], [3, 4], [7]]);
  });

  it('close() answers every accepted item and then refuses new ones', async () => {
    const b = new MicroBatcher<number, number>({
      run: async (xs) => {
        await new Promise((r) => setTimeout(r, 10));
        return xs.map((x) => -x);
      },
      maxBatch: 2,
      maxWaitMs: 1000, // close must not wait for this timer
      maxQueue: 10,
    });
    const pending = [b.submit([1]), b.submit([2, 3]), b.submit([4])];
    const t0 = Date.now();
    await b.close();
    assert.ok(Date.now() - t0 < 500, 'close waited for the batching timer');
    assert.deepEqual(await Promise.all(pending), [[-1], [-2, -3], [-4]]);
    await assert.rejects(b.submit([5]), /shutting down/);
  });

  it('runs up to maxInFlight batches at once, a partial one after maxWaitMs', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>({
      run: async (xs) => {
        calls.push(xs);
        await gate;
        return xs;
      },
      maxBatch: 3,
      maxWaitMs: 5,
      maxQueue: 10,
      maxInFlight: 2,
    });
    const first = b.submit([1, 2, 3]); // full: starts at once
    const second = b.submit([4]); // a slot is free: starts alone after 5 ms
    await until(() => b.running === 2, 'two batches running');
    const third = b.submit([5]); // no free slot: waits for a batch to finish
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(calls, [[1, 2, 3], [4]]);
    assert.equal(b.waiting, 1);
    release();
    assert.deepEqual(await Promise.all([first, second, third]), [[1, 2, 3], [4], [5]]);
    assert.deepEqual(calls, [[1, 2, 3], [4], [5]]);
  });

  it('passes a failing batch error to each request in it', async () => {
    const b = new MicroBatcher<number, number>({
      run: async () => {
        throw new Error('boom');
      },
      maxBatch: 8,
      maxWaitMs: 1,
      maxQueue: 8,
    });
    await assert.rejects(b.submit([1]), /boom/);
  });
});

describe('Prometheus metrics', () => {
  it('renders counters and cumulative histograms in the text format', () => {
    const r = new Registry();
    const c = r.add(new Counter('x_total', 'Things.'));
    const h = r.add(new Histogram('lat_seconds', 'Latency.', [0.1, 1]));
    c.inc({ code: '200' });
    c.inc({ code: '200' }, 2);
    h.observe({ m: 'a"b' }, 0.05);
    h.observe({ m: 'a"b' }, 0.5);
    h.observe({ m: 'a"b' }, 3);
    assert.equal(
      r.render(),
      [
        '# HELP x_total Things.',
        '# TYPE x_total counter',
        'x_total{code="200"} 3',
        '# HELP lat_seconds Latency.',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{m="a\\"b",le="0.1"} 1',
        'lat_seconds_bucket{m="a\\"b",le="1"} 2',
        'lat_seconds_bucket{m="a\\"b",le="+Inf"} 3',
        'lat_seconds_sum{m="a\\"b"} 3.55',
        'lat_seconds_count{m="a\\"b"} 3',
        '',
      ].join('\n'),
    );
  });
});

describe('prediction service', () => {
  it('predicts texts, lists models, reports health and metrics', async () => {
    const p = new FakePredictor();
    const { server, base } = await startServer({ models: [{ name: 'sent', predictor: p }] });
    try {
      const res = await post(base, '/predict', { texts: ['a good day', 'bad'] });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        model: 'sent',
        predictions: [
          { label: 'pos', labels: ['pos'], probabilities: { neg: 0.2, pos: 0.8 } },
          { label: 'neg', labels: ['neg'], probabilities: { neg: 0.8, pos: 0.2 } },
        ],
      });
      const named = await post(base, '/models/sent/predict', { texts: ['good'] });
      assert.equal(
        ((await named.json()) as { predictions: { label: string }[] }).predictions[0].label,
        'pos',
      );
      const health = await fetch(base + '/healthz');
      assert.equal(health.status, 200);
      const models = await (await fetch(base + '/models')).json();
      assert.deepEqual(models, {
        default: 'sent',
        models: [{ name: 'sent', task: 'text_classification', labels: ['neg', 'pos'] }],
      });
      const metrics = await fetch(base + '/metrics');
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      assert.match(text, /alembic_http_requests_total\{code="200",model="sent",route="\/predict"\} 1/);
      assert.match(
        text,
        /alembic_http_requests_total\{code="200",model="sent",route="\/models\/:name\/predict"\} 1/,
      );
      assert.match(text, /alembic_predicted_texts_total\{model="sent"\} 3/);
      assert.match(text, /alembic_http_request_duration_seconds_count\{model="sent"\} 2/);
      assert.match(text, /alembic_queue_depth\{model="sent"\} 0/);
    } finally {
      await server.close();
    }
    assert.ok(p.closed, 'close() releases the predictor');
  });

  it('answers 400 with a reason for bad input, 404 for an unknown model, 413 for too much', async () => {
    const p = new FakePredictor();
    const pairs = new FakePredictor('text_pair_classification');
    const { server, base } = await startServer({
      models: [
        { name: 'single', predictor: p },
        { name: 'pair', predictor: pairs },
      ],
      bodyLimitBytes: 2000,
      maxInputs: 3,
      maxTextChars: 50,
    });
    const expectError = async (res: Response, status: number, reason: RegExp) => {
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: string };
      assert.match(body.error, reason);
    };
    try {
      await expectError(await post(base, '/predict', { texts: [] }), 400, /texts: is empty/);
      await expectError(
        await post(base, '/predict', { texts: ['a', 3] }),
        400,
        /texts\[1\]: expected a string, got a number/,
      );
      await expectError(await post(base, '/predict', { text: 'a' }), 400, /unknown field "text"/);
      await expectError(await post(base, '/predict', { texts: 'a' }), 400, /texts: expected an array/);
      await expectError(await post(base, '/predict', [1]), 400, /expected a JSON object/);
      await expectError(
        await post(base, '/predict', { pairs: [['a', 'b']] }),
        400,
        /takes "texts", not "pairs"/,
      );
      await expectError(await post(base, '/predict', null, '{"texts": ['), 400, /JSON/i);
      await expectError(
        await post(base, '/models/pair/predict', { pairs: [['a']] }),
        400,
        /pairs\[0\]: expected \[textA, textB\], got 1 items/,
      );
      await expectError(
        await post(base, '/models/nope/predict', { texts: ['a'] }),
        404,
        /no model "nope"; loaded: single, pair/,
      );
      await expectError(
        await post(base, '/predict', { texts: ['a', 'b', 'c', 'd'] }),
        413,
        /4 inputs is more than the limit of 3/,
      );
      await expectError(await post(base, '/predict', { texts: ['x'.repeat(51)] }), 413, /51 characters/);
      await expectError(await post(base, '/predict', { texts: ['x'.repeat(3000)] }), 413, /too large/i);
      assert.equal(p.batches.length, 0, 'no refused request reached the model');
      const ok = await post(base, '/models/pair/predict', { pairs: [['good', 'x']] });
      assert.equal(ok.status, 200);
      assert.deepEqual(pairs.batches, [[{ text: 'good', textB: 'x' }]]);
    } finally {
      await server.close();
    }
  });

  it('merges concurrent requests into few model calls', async () => {
    const p = new FakePredictor();
    const { server, base } = await startServer({
      models: [{ name: 'm', predictor: p }],
      maxBatch: 8,
      maxWaitMs: 20,
    });
    try {
      const texts = Array.from({ length: 20 }, (_, i) => (i % 2 ? `good ${i}` : `bad ${i}`));
      const answers = await Promise.all(
        texts.map((t) => post(base, '/predict', { texts: [t] }).then((r) => r.json())),
      );
      answers.forEach((a, i) =>
        assert.equal((a as { predictions: { label: string }[] }).predictions[0].label, i % 2 ? 'pos' : 'neg'),
      );
      const sizes = p.batches.map((b) => b.length);
      assert.equal(
        sizes.reduce((s, n) => s + n, 0),
        20,
      );
      assert.ok(Math.max(...sizes) <= 8, `batch above maxBatch: ${sizes}`);
      // 20 single-text requests in at most 8-wide batches: at least 3 calls; batching must cut the 20 by far.
      assert.ok(p.batches.length <= 6, `requests were not merged: ${p.batches.length} calls ${sizes}`);
    } finally {
      await server.close();
    }
  });

  it('refuses settings under which a largest request could never be queued', async () => {
    await assert.rejects(
      PredictionServer.create({
        models: [{ name: 'm', predictor: new FakePredictor() }],
        maxQueue: 8,
        maxInputs: 9,
      }),
      /max inputs per request \(9\) is above the queue limit \(8\)/,
    );
  });

  it('answers 503 when the queue is full instead of queueing more', async () => {
    const p = new FakePredictor();
    p.hold();
    const { server, base } = await startServer({
      models: [{ name: 'm', predictor: p }],
      maxBatch: 2,
      maxWaitMs: 0,
      maxQueue: 4,
      maxInputs: 4,
    });
    try {
      const accepted = [post(base, '/predict', { texts: ['a', 'b'] })]; // runs (held)
      await until(() => p.batches.length === 1, 'the first batch');
      accepted.push(post(base, '/predict', { texts: ['c', 'd', 'e'] })); // waits: 3 of 4
      const batcher = server.models[0].batcher;
      await until(() => batcher.waiting === 3, 'the queue to fill');
      const refused = await post(base, '/predict', { texts: ['f', 'g'] });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.match(
        ((await refused.json()) as { error: string }).error,
        /queue is full \(3 waiting, limit 4\)/,
      );
      p.release();
      assert.deepEqual(
        (await Promise.all(accepted)).map((r) => r.status),
        [200, 200],
      );
      const metrics = await (await fetch(base + '/metrics')).text();
      assert.match(metrics, /alembic_rejected_requests_total\{model="m",reason="queue_full"\} 1/);
    } finally {
      await server.close();
    }
  });

  it('shuts down gracefully: every accepted request is answered, new connections are refused', async () => {
    const p = new FakePredictor();
    p.hold();
    const { server, base } = await startServer({
      models: [{ name: 'm', predictor: p }],
      maxBatch: 4,
      maxWaitMs: 0,
    });
    const accepted = Array.from({ length: 10 }, (_, i) => post(base, '/predict', { texts: [`good ${i}`] }));
    const batcher = server.models[0].batcher;
    await until(() => batcher.waiting + p.batches.flat().length === 10, 'all requests to be accepted');
    const closed = server.close();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(p.closed, false, 'the model was released while requests were in flight');
    p.release();
    const responses = await Promise.all(accepted);
    assert.deepEqual(
      responses.map((r) => r.status),
      new Array(10).fill(200),
    );
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
      predictions: { label: string }[];
    }[];
    assert.ok(bodies.every((b) => b.predictions[0].label === 'pos'));
    await closed;
    assert.equal(p.closed, true);
    assert.equal(p.batches.flat().length, 10);
    await assert.rejects(fetch(base + '/healthz'), /fetch failed/);
  });
});
