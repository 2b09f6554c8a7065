import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportModelDir } from '../../../src/deploy/export/export-dir.js';
import { OnnxPredictor } from '../../../src/deploy/onnx-predictor.js';
import { openPredictor } from '../../../src/deploy/open-predictor.js';
import { TorchPredictor } from '../../../src/deploy/torch-predictor.js';
import { BrowserCodec, parseVocab } from '../../../src/deploy/web/browser-codec.js';
import { describeForBrowser } from '../../../src/deploy/web/demo-routes.js';
import { TextCodec } from '../../../src/tasks/text-codec.js';
import { parseConfig } from '../../../src/config/run-config.js';
import { train } from '../../../src/train/trainer.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/tiny-data.js';

const tmp = tempDir('alembic-ngrams-');
const WORDS = 'the room was quite clean staff breakfast view price, location. noisy!'.split(' ');

/** English-like lines whose label is whether "not" comes right before "good" (a bigram cue). */
function lines(rng: Rng, n: number): string[] {
  return Array.from({ length: n }, () => {
    const positive = rng.next() < 0.5;
    const words = Array.from({ length: 3 + rng.int(6) }, () => WORDS[rng.int(WORDS.length)]);
    words.splice(rng.int(words.length + 1), 0, positive ? 'good' : 'not good');
    return `${words.join(' ')}\t${positive ? 'pos' : 'neg'}`;
  });
}

const rng = new Rng(2);
const files = { train: path.join(tmp, 'train.tsv'), dev: path.join(tmp, 'dev.tsv') };
writeFileSync(files.train, lines(rng, 120).join('\n') + '\n');
writeFileSync(files.dev, lines(rng, 40).join('\n') + '\n');
const PROBES = ['not good at all', 'good view', 'Unseen WORDS here, not good!', '', 'good'];

const VARIANTS = [
  { name: 'mlp bow, word 1–3-grams', model: { ngrams: 3, buckets: 997 } },
  {
    name: 'linear bow, word bigrams and character 2–4-grams',
    model: { ngrams: 2, buckets: 501, char_ngrams: [2, 4], bow: 'linear' },
  },
  {
    name: 'mlp bow, word bigrams, learned token weights',
    model: { ngrams: 2, buckets: 499, token_weights: true },
  },
];

for (const v of VARIANTS) {
  test(`${v.name}: libtorch, onnxruntime and the browser codec agree on hashed n-grams`, async () => {
    const dir = path.join(tmp, v.name.replace(/\W+/g, '-'));
    const config = parseConfig(
      {
        task: 'text_classification',
        dataset: { ...files, tokenizer: { type: 'whitespace' }, max_len: 16 },
        model: { net: 'bow', embedding_dim: 8, hidden_size: 8, ...v.model },
        trainer: { output_dir: dir, epochs: 2, batch_size: 16, eval_step: 1000, threads: 1 },
      },
      path.join(tmp, 'config.json'),
    );
    await train(config, { quiet: true, log: () => {} });
    const best = path.join(dir, 'best');
    const out = path.join(dir, 'exported');
    await exportModelDir(best, out, { speedSeconds: 0 });

    const torch = await openPredictor(best);
    const onnx = await openPredictor(out, { threads: 1 });
    assert.ok(torch instanceof TorchPredictor && onnx instanceof OnnxPredictor);
    const inputs = PROBES.map((text) => ({ text }));
    const [a, b] = [await torch.predictBatch(inputs), await onnx.predictBatch(inputs)];
    a.forEach((p, i) =>
      p.probabilities.forEach((x, k) =>
        assert.ok(Math.abs(x - b[i].probabilities[k]) < 1e-5, `${PROBES[i]}: probability ${k}`),
      ),
    );
    await Promise.all([torch.close(), onnx.close()]);

    // The page: its spec carries the n-grams, and its codec gives the server codec's ids, n-grams included.
    const entry = describeForBrowser('m', out);
    assert.equal(entry.unavailable, undefined);
    assert.equal(entry.spec!.ngrams?.buckets, v.model.buckets);
    const vocab = parseVocab(readFileSync(path.join(out, 'vocab.txt'), 'utf8'));
    const browser = new BrowserCodec(entry.spec!, vocab);
    const server = new TextCodec(
      {
        tokenizer: { type: 'whitespace', lowercase: true },
        maxLen: 16,
        specials: false,
        ngrams: entry.spec!.ngrams,
      },
      vocab,
    );
    for (const t of PROBES) {
      const ids = server.encode(t).ids;
      assert.deepEqual(browser.encode(t), ids, t);
      if (t.split(' ').length > 1)
        assert.ok(
          ids.some((id) => id >= vocab.size),
          `${t}: has n-gram rows`,
        );
    }
  });
}

test('n-grams are refused outside a classifying BOW, naming the field', () => {
  const raw = (model: object, task = 'text_classification') => ({
    task,
    dataset: { train: 't.tsv' },
    model,
    trainer: { output_dir: 'o' },
  });
  assert.throws(
    () => parseConfig(raw({ net: 'cnn', ngrams: 2 }), 'c.json'),
    (e: Error) =>
      e instanceof UserError && /c\.json: model\.ngrams: n-gram features need net "bow"/.test(e.message),
  );
  assert.throws(
    () => parseConfig(raw({ net: 'bow', char_ngrams: [3, 5] }, 'sequence_labeling'), 'c.json'),
    /model\.char_ngrams/,
  );
});
