import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { codePointLength } from '../../../src/deploy/serve/request-body.js';
import { PredictionServer } from '../../../src/deploy/serve/server.js';
import { FakePredictor } from '../../helpers/fake-predictor.js';

/** Every test is bounded: a server that never lets go fails its test instead of hanging the run. */
const BOUND = { timeout: 20_000 };

describe('HTTP details of the service', () => {
  let server: PredictionServer;
  let base: string;
  const predictor = new FakePredictor();

  before(async () => {
    server = await PredictionServer.create({
      models: [{ name: 'm', predictor }],
      bodyLimitBytes: 100_000,
      maxTextChars: 6000,
    });
    base = await server.listen(0, '127.0.0.1');
  });
  after(() => server.close());

  const send = (path: string, data: Buffer | string, headers: Record<string, string> = {}) =>
    fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof data === 'string' ? data : new Uint8Array(data).buffer,
    });
  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

  it('answers 405 with Allow for a known path asked with another method', BOUND, async () => {
    for (const method of ['OPTIONS', 'PUT', 'DELETE', 'GET']) {
      const res = await fetch(base + '/predict', { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'POST', method);
      if (method !== 'OPTIONS') assert.match(await errorOf(res), /not allowed on \/predict; use POST/);
    }
    const named = await fetch(base + '/models/m/predict', { method: 'PUT' });
    assert.equal(named.status, 405);
    assert.equal(named.headers.get('allow'), 'POST');
    const health = await fetch(base + '/healthz', { method: 'POST', body: '{}' });
    assert.equal(health.status, 405);
    assert.equal(health.headers.get('allow'), 'GET, HEAD');
    assert.equal((await fetch(base + '/nowhere', { method: 'PUT' })).status, 404);
  });

  it('decodes gzip and deflate bodies', BOUND, async () => {
    const json = JSON.stringify({ texts: ['a good day', 'bad'] });
    for (const [encoding, data] of [
      ['gzip', zlib.gzipSync(json)],
      ['deflate', zlib.deflateSync(json)],
    ] as const) {
      const res = await send('/predict', data, { 'content-encoding': encoding });
      assert.equal(res.status, 200, encoding);
      const body = (await res.json()) as { predictions: { label: string }[] };
      assert.deepEqual(
        body.predictions.map((p) => p.label),
        ['pos', 'neg'],
      );
    }
  });

  it(
    'stops inflating at the body limit (413), and says what is wrong with bad or unknown encodings',
    BOUND,
    async () => {
      // 50 MB of spaces inflate from about 50 KB: refused once the decoded bytes pass the 100 KB limit.
      const bomb = zlib.gzipSync(Buffer.alloc(50_000_000, ' '));
      const big = await send('/predict', bomb, { 'content-encoding': 'gzip' });
      assert.equal(big.status, 413);
      const corrupt = await send('/predict', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
      assert.equal(corrupt.status, 400);
      assert.match(await errorOf(corrupt), /cannot decode gzip data/);
      const unknown = await send('/predict', '{}', { 'content-encoding': 'compress' });
      assert.equal(unknown.status, 415);
      assert.match(await errorOf(unknown), /content-encoding "compress" is not supported/);
      assert.ok(process.memoryUsage().rss < 2e9);
    },
  );

  it('counts a text in code points: 6,000 emoji are 6,000 characters', BOUND, async () => {
    const emoji = '😀'.repeat(6000);
    assert.equal(codePointLength(emoji), 6000);
    assert.equal(codePointLength('a\ud800b'), 3, 'a lone surrogate is one character');
    assert.equal((await send('/predict', JSON.stringify({ texts: [emoji] }))).status, 200);
    const over = await send('/predict', JSON.stringify({ texts: [emoji + '😀'] }));
    assert.equal(over.status, 413);
    assert.match(await errorOf(over), /texts\[0\]: 6001 characters is more than the limit of 6000/);
  });
});
