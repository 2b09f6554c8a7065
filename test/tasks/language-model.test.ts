import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { int64 } from '../../src/engine/create.js';
import { noGrad, tidy } from '../../src/engine/scope.js';
import { sampleToken } from '../../src/nets/decoder-search.js';
import { TransformerLanguageModel } from '../../src/nets/lm.js';
import { parseConfig, type TrainConfig } from '../../src/config/run-config.js';
import { loadModelDir } from '../../src/train/model-dir.js';
import { train } from '../../src/train/trainer.js';
import { CausalLmTask, scoreTexts, type CausalLmModel } from '../../src/tasks/language-model.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

function lmConfig(dir: string, net: string, extra: Record<string, unknown> = {}): TrainConfig {
  return parseConfig(
    {
      task: 'language_model',
      dataset: { train: path.join(dir, 'train.txt'), dev: path.join(dir, 'dev.txt'), max_len: 32 },
      model: {
        net,
        embedding_dim: 32,
        hidden_size: 32,
        num_layers: 1,
        num_heads: 2,
        ffn_size: 64,
        dropout: 0,
      },
      trainer: {
        epochs: 12,
        batch_size: 16,
        learning_rate: 0.01,
        warmup_ratio: 0,
        eval_step: 1000,
        save_model_step: 1000,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
      generation: { top_k: 1, max_length: 12 },
      ...extra,
    },
    path.join(dir, 'config.json'),
  );
}

/** Counting lines: "a b c d…" (spaced: the char tokenizer keeps a run of letters as one word) starting at a random letter and running 4–8 letters; the next letter is certain. */
function writeCounting(dir: string): void {
  const rng = new Rng(3);
  const letters = 'abcdefghijklmnop';
  const line = () => {
    const start = rng.int(6);
    return [...letters.slice(start, start + 4 + rng.int(5))].join(' ');
  };
  writeFileSync(path.join(dir, 'train.txt'), Array.from({ length: 200 }, line).join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'dev.txt'),
    Array.from({ length: 40 }, () => `<s> ${line()} <e>`).join('\n') + '\n',
  );
}

test('a uniform model has perplexity equal to the vocabulary size', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'train.txt'), 'a b c\nb c d\n');
  writeFileSync(path.join(dir, 'dev.txt'), 'a b\n');
  const c = lmConfig(dir, 'lstm');
  const task = new CausalLmTask(c);
  const examples = await task.read(c.dataset.train, { labelled: true });
  task.fit(examples);
  const model = task.buildModel();
  // Zero head: every logit is 0, so each of the V tokens has probability 1/V.
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) if (name.startsWith('lm.lm_head')) p.fill_(0);
  });
  const features = examples.map((e) => task.encode(e));
  const vocab = task.codec.vocab.size; // 5 specials + a b c d
  assert.equal(vocab, 9);
  const r = task.evaluate(model, examples, features, 8);
  assert.ok(Math.abs(r.metrics.perplexity - vocab) < 1e-4, `perplexity ${r.metrics.perplexity}`);
  assert.equal(r.metrics.tokens, 8); // 3 letters + EOS, twice
  const scores = scoreTexts(model, features);
  assert.ok(Math.abs(scores[0].logProb - -4 * Math.log(9)) < 1e-4);
  assert.ok(Math.abs(scores[0].perplexity - 9) < 1e-4);
  model.dispose();
});

for (const net of ['lstm', 'transformer']) {
  test(`${net} LM learns to count letters; scoring prefers real sequences; greedy sampling continues them`, async () => {
    const dir = tempDir();
    writeCounting(dir);
    const c = lmConfig(dir, net, {});
    if (net === 'transformer') c.trainer.learning_rate = 0.003;
    const summary = await train(c, { quiet: true, log: () => {} });
    assert.ok(summary.dev!.perplexity < 2.2, `dev perplexity ${summary.dev!.perplexity}`);
    const m = loadModelDir(path.join(c.trainer.output_dir, 'best'));
    const task = m.task as CausalLmTask;
    const [good, bad] = scoreTexts(m.model as CausalLmModel, [
      task.encode({ text: 'c d e f g' }),
      task.encode({ text: 'c d g f e' }),
    ]);
    assert.ok(good.logProb > bad.logProb + 3, `${good.logProb} vs ${bad.logProb}`);
    const [continued] = task.predict(m.model, [task.encode({ text: 'b c d' })]);
    assert.match(continued.text, /^e/);
    assert.match(task.formatPrediction({ text: 'b c d' }, continued), /^b c d\te f/);
    m.model.dispose();
  });
}

test('the causal Transformer LM never looks ahead', () => {
  const lm = new TransformerLanguageModel({
    vocabSize: 10,
    hiddenSize: 16,
    numLayers: 2,
    numHeads: 2,
    ffnSize: 32,
    maxPositions: 16,
    dropout: 0,
    paddingIdx: 0,
  }).eval();
  const [a, b] = noGrad(() =>
    tidy(() => {
      const x = lm
        .logits(int64([3, 4, 5, 6], [1, 4]))
        .select(0, 0)
        .slice(0, 0, 3)
        .toArray();
      const y = lm
        .logits(int64([3, 4, 5, 9], [1, 4]))
        .select(0, 0)
        .slice(0, 0, 3)
        .toArray();
      return [x, y];
    }),
  );
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5));
  lm.dispose();
});

test('sampling: top-k 1 is argmax, banned ids are never drawn, temperature sharpens', () => {
  const rng = new Rng(1);
  assert.equal(sampleToken([0.1, 2, 0.5], { temperature: 1, topK: 1 }, rng), 1);
  assert.equal(sampleToken([0.1, 2, 0.5], { temperature: 1, topK: 1 }, rng, new Set([1])), 2);
  const counts = [0, 0];
  for (let i = 0; i < 2000; i++) counts[sampleToken([0, Math.log(3)], { temperature: 1, topK: 0 }, rng)]++;
  // P(1) = 3/4 at temperature 1.
  assert.ok(Math.abs(counts[1] / 2000 - 0.75) < 0.04, `${counts}`);
  counts.fill(0);
  for (let i = 0; i < 2000; i++) counts[sampleToken([0, Math.log(3)], { temperature: 0.5, topK: 0 }, rng)]++;
  // P(1) = 9/10 at temperature 1/2.
  assert.ok(Math.abs(counts[1] / 2000 - 0.9) < 0.03, `${counts}`);
});
