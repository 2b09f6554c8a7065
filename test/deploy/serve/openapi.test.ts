import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { PredictInput, PredictOutput } from '../../../src/deploy/predictor.js';
import { openApiPath } from '../../../src/deploy/serve/openapi.js';
import { PredictionServer } from '../../../src/deploy/serve/server.js';
import { registerDemoRoutes } from '../../../src/deploy/web/demo-routes.js';
import { FakePredictor } from '../../helpers/fake-predictor.js';

/** Multi-label: "a" and "b" above 0.5 when the text contains them; "c" never. */
class MultiLabelPredictor extends FakePredictor {
  override readonly labels = ['a', 'b', 'c'];
  constructor() {
    super('multi_label_classification');
  }
  override async predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]> {
    return inputs.map((x) => {
      const p = [x.text.includes('a') ? 0.9 : 0.1, x.text.includes('b') ? 0.7 : 0.2, 0.3];
      return { labels: ['a', 'b', 'c'].filter((_, i) => p[i] > 0.5), probabilities: p };
    });
  }
}

/** A tagger that marks every capitalised word as a PER entity, with its character offsets. */
class TaggerPredictor extends FakePredictor {
  override readonly labels = ['O', 'B-PER'];
  constructor() {
    super('sequence_labeling');
  }
  override async predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]> {
    return inputs.map((x) => {
      const words = [...x.text.matchAll(/\S+/g)];
      return {
        labels: words.map((w) => (/^[A-Z]/.test(w[0]) ? 'B-PER' : 'O')),
        probabilities: [],
        entities: words
          .filter((w) => /^[A-Z]/.test(w[0]))
          .map((w) => ({ type: 'PER', word: w[0], start: w.index, end: w.index + w[0].length, score: 0.75 })),
      };
    });
  }
}

/** Matching: score = share of the first text's characters found in the second. */
class MatchPredictor extends FakePredictor {
  override readonly labels: string[] = [];
  constructor() {
    super('text_matching');
  }
  override async predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]> {
    return inputs.map((x) => {
      const hits = [...x.text].filter((c) => (x.textB ?? '').includes(c)).length;
      return { labels: [], probabilities: [hits / x.text.length] };
    });
  }
}

async function start() {
  const server = await PredictionServer.create({
    models: [
      { name: 'clf', predictor: new FakePredictor() },
      { name: 'pair', predictor: new FakePredictor('text_pair_classification') },
      { name: 'multi', predictor: new MultiLabelPredictor() },
      { name: 'ner', predictor: new TaggerPredictor() },
      { name: 'match', predictor: new MatchPredictor() },
    ],
    plugins: [(app) => registerDemoRoutes(app, [])],
  });
  const base = await server.listen(0, '127.0.0.1');
  return { server, base };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of several shapes, read by the asserts
type Json = any;

async function post(base: string, path: string, body: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('POST /predict in the Hugging Face Inference shape', () => {
  it('answers classification with sorted {label, score}, top_k, single and batch', async () => {
    const { server, base } = await start();
    try {
      let r = await post(base, '/predict', { inputs: 'good day' });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, [{ label: 'pos', score: 0.8 }]);
      r = await post(base, '/predict', { inputs: ['good', 'bad'], parameters: { top_k: 2 } });
      assert.deepEqual(r.json, [
        [
          { label: 'pos', score: 0.8 },
          { label: 'neg', score: 0.2 },
        ],
        [
          { label: 'neg', score: 0.8 },
          { label: 'pos', score: 0.2 },
        ],
      ]);
      // Today's shape keeps its answer.
      r = await post(base, '/predict', { texts: ['good'] });
      assert.deepEqual(r.json, {
        model: 'clf',
        predictions: [{ label: 'pos', labels: ['pos'], probabilities: { neg: 0.2, pos: 0.8 } }],
      });
    } finally {
      await server.close();
    }
  });

  it('takes {text, text_pair} for pair models and refuses the wrong shape per model', async () => {
    const { server, base } = await start();
    try {
      const r = await post(base, '/models/pair/predict', { inputs: { text: 'a', text_pair: 'good' } });
      assert.deepEqual(r.json, [{ label: 'pos', score: 0.8 }]);
      const refusals: [string, unknown, RegExp][] = [
        ['pair', { inputs: 'only one' }, /inputs: this model \(text_pair_classification\) takes/],
        ['pair', { inputs: [{ text: 'a' }] }, /inputs\[0\]: missing "text_pair"/],
        ['clf', { inputs: { text: 'a', text_pair: 'b' } }, /inputs\.text_pair: .* one text/],
        ['clf', { inputs: [] }, /inputs: is empty/],
        ['clf', { inputs: [3] }, /inputs\[0\]: expected a string or/],
        ['clf', { inputs: 'x', parameters: { top_k: 0 } }, /parameters\.top_k: expected a whole number/],
        ['clf', { inputs: 'x', parameters: { temperature: 1 } }, /parameters: unknown field "temperature"/],
        ['clf', { inputs: 'x', texts: ['y'] }, /body: unknown field "texts" beside "inputs"/],
      ];
      for (const [model, body, error] of refusals) {
        const res = await post(base, `/models/${model}/predict`, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.json.error, error);
      }
    } finally {
      await server.close();
    }
  });

  it('answers multi-label with every label above threshold, matching with {score}, taggers with entities', async () => {
    const { server, base } = await start();
    try {
      let r = await post(base, '/models/multi/predict', { inputs: 'ab' });
      assert.deepEqual(r.json, [
        { label: 'a', score: 0.9 },
        { label: 'b', score: 0.7 },
      ]);
      r = await post(base, '/models/multi/predict', { inputs: ['ab'], parameters: { top_k: 1 } });
      assert.deepEqual(r.json, [[{ label: 'a', score: 0.9 }]]);
      r = await post(base, '/models/match/predict', { inputs: [{ text: 'ab', text_pair: 'a' }] });
      assert.deepEqual(r.json, [{ score: 0.5 }]);
      r = await post(base, '/models/ner/predict', { inputs: 'met Ann in Rome' });
      assert.deepEqual(r.json, [
        { entity_group: 'PER', word: 'Ann', start: 4, end: 7, score: 0.75 },
        { entity_group: 'PER', word: 'Rome', start: 11, end: 15, score: 0.75 },
      ]);
    } finally {
      await server.close();
    }
  });
});

/** Every path in fastify's route tree (printRoutes draws the radix tree: a path is its ancestors' parts joined). */
function registeredPaths(server: PredictionServer): string[] {
  const stack: string[] = [];
  const paths: string[] = [];
  for (const line of server.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[└├]── (\S+) \(/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    paths.push(stack.join(''));
  }
  return paths;
}

/** Method and path of every route that really answers (a generated 405 answer is not one). */
async function servedRoutes(server: PredictionServer): Promise<Set<string>> {
  const found = new Set<string>();
  for (const p of registeredPaths(server)) {
    const url = p.replace(':name', 'clf').replace(':file', 'manifest.json');
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const res = await server.app.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) });
      if (res.statusCode !== 405) found.add(`${method} ${openApiPath(p)}`);
    }
  }
  return found;
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document whose paths are exactly the served routes', async () => {
    const { server, base } = await start();
    try {
      const res = await fetch(`${base}/openapi.json`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      assert.equal(doc.openapi, '3.1.0');
      const result = await new Validator().validate(doc as never);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      const documented = new Set(
        Object.entries(doc.paths).flatMap(([p, ops]) =>
          Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
        ),
      );
      assert.deepEqual(await servedRoutes(server), documented);
      assert.ok(documented.has('POST /models/{name}/predict'));
      assert.ok(documented.has('GET /demo/'));
    } finally {
      await server.close();
    }
  });

  it('GET / points to the document, the demo and the routes', async () => {
    const { server, base } = await start();
    try {
      const index = (await (await fetch(`${base}/`)).json()) as {
        openapi: string;
        demo: string;
        routes: string[];
      };
      assert.equal(index.openapi, '/openapi.json');
      assert.equal(index.demo, '/demo/');
      assert.ok(index.routes.includes('GET /models'));
    } finally {
      await server.close();
    }
    const bare = await PredictionServer.create({ models: [{ name: 'clf', predictor: new FakePredictor() }] });
    try {
      const res = await bare.app.inject({ method: 'GET', url: '/' });
      assert.equal(res.json().demo, undefined);
    } finally {
      await bare.close();
    }
  });
});
