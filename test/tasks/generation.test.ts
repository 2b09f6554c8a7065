import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beamSearch, type SearchRow } from '../../src/nets/decoder-search.js';
import { detokenize, type GenerationTask } from '../../src/tasks/generation.js';
import { parseConfig, type TrainConfig } from '../../src/config/run-config.js';
import { loadModelDir } from '../../src/train/model-dir.js';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const BOS = 0;
const EOS = 1;
const A = 2;
const B = 3;
const C = 4;

/** A hand-made model: next-token probabilities by generated prefix. */
const TABLE: Record<string, [number, number][]> = {
  '': [
    [B, 0.55],
    [A, 0.45],
  ],
  [`${A}`]: [
    [C, 0.9],
    [EOS, 0.1],
  ],
  [`${B}`]: [
    [EOS, 0.9],
    [C, 0.1],
  ],
  [`${A},${C}`]: [[EOS, 1]],
  [`${B},${C}`]: [[EOS, 1]],
};

function tableNext(rows: SearchRow[], k: number) {
  return rows.map((r) => {
    const entries = TABLE[r.prefix.slice(1).join(',')].slice(0, k);
    return { tokens: entries.map((e) => e[0]), logProbs: entries.map((e) => Math.log(e[1])) };
  });
}

const search = (beamSize: number, lengthPenalty: number) =>
  beamSearch(1, tableNext, { beamSize, lengthPenalty, maxLength: 5, bos: BOS, eos: EOS })[0];

test('beam search on a hand-worked model', () => {
  // Greedy: B (0.55), then EOS (0.9): p = 0.495.
  const greedy = search(1, 0);
  assert.deepEqual(
    greedy.map((h) => h.tokens),
    [[B]],
  );
  assert.ok(Math.abs(greedy[0].logProb - Math.log(0.495)) < 1e-12);
  // Beam 2, step 2 ranks B·EOS 0.495 (ends), A·C 0.405, B·C 0.055 (live), A·EOS 0.045 (not reached);
  // step 3 ends A·C·EOS 0.405 and B·C·EOS 0.055. Raw log-probability keeps B first.
  const raw = search(2, 0);
  assert.deepEqual(
    raw.map((h) => h.tokens),
    [[B], [A, C]],
  );
  assert.ok(Math.abs(raw[1].logProb - Math.log(0.405)) < 1e-12);
  // Length penalty 1: ln(0.495)/2 = −0.3515 < ln(0.405)/3 = −0.3013, so the longer one wins.
  const normalised = search(2, 1);
  assert.deepEqual(
    normalised.map((h) => h.tokens),
    [[A, C], [B]],
  );
  assert.ok(Math.abs(normalised[0].score - Math.log(0.405) / 3) < 1e-12);
  assert.ok(normalised.every((h) => h.ended));
  // Cut at maxLength: hypotheses still live are returned, marked as not ended.
  const cut = beamSearch(1, tableNext, {
    beamSize: 1,
    lengthPenalty: 0,
    maxLength: 1,
    bos: BOS,
    eos: EOS,
  })[0];
  assert.deepEqual(cut, [{ tokens: [B], logProb: Math.log(0.55), score: Math.log(0.55), ended: false }]);
});

test('detokenize: Chinese characters join, Latin words keep their spaces, WordPiece pieces glue', () => {
  assert.equal(detokenize(['床', '前', '明', '月', '光'], 'char'), '床前明月光');
  assert.equal(detokenize(['我', '爱', 'nlp', 'and', 'ml', '。'], 'char'), '我爱nlp and ml。');
  assert.equal(detokenize(['the', 'cat'], 'whitespace'), 'the cat');
  assert.equal(detokenize(['play', '##ing', 'ball'], 'wordpiece'), 'playing ball');
});

/** Letter sequences and their reversals (or copies), space-separated so each letter is a token. */
function writeReversal(dir: string, reverse: boolean): void {
  const rng = new Rng(5);
  const letters = 'abcdefgh';
  const line = () => {
    const seq = Array.from({ length: 3 + rng.int(4) }, () => letters[rng.int(letters.length)]);
    const target = reverse ? [...seq].reverse() : seq;
    return `${seq.join(' ')}\t${target.join(' ')}`;
  };
  writeFileSync(path.join(dir, 'train.tsv'), Array.from({ length: 600 }, line).join('\n') + '\n');
  writeFileSync(path.join(dir, 'dev.tsv'), Array.from({ length: 40 }, line).join('\n') + '\n');
}

function genConfig(dir: string, net: string, generation: Record<string, unknown>): TrainConfig {
  return parseConfig(
    {
      task: 'text_generation',
      dataset: { train: 'train.tsv', dev: 'dev.tsv', max_len: 16 },
      model: {
        net,
        embedding_dim: 32,
        hidden_size: 64,
        num_layers: 1,
        num_heads: 4,
        ffn_size: 128,
        dropout: 0,
      },
      trainer: {
        epochs: net === 'transformer' ? 10 : 12,
        batch_size: 32,
        learning_rate: net === 'transformer' ? 0.002 : 0.01,
        eval_step: 10000,
        save_model_step: 10000,
        threads: 1,
        output_dir: 'run',
      },
      generation: { beam_size: 3, max_length: 10, label_smoothing: 0, ...generation },
    },
    path.join(dir, 'config.json'),
  );
}

test('GRU seq2seq with attention learns to reverse letter sequences (separate vocabularies)', async () => {
  const dir = tempDir();
  writeReversal(dir, true);
  const c = genConfig(dir, 'gru', { shared_vocab: false });
  const summary = await train(c, { quiet: true, log: () => {} });
  assert.ok(summary.dev!.bleu > 80, `dev BLEU ${summary.dev!.bleu}`);
  assert.ok(summary.dev!.rouge_l > 0.9, `dev ROUGE-L ${summary.dev!.rouge_l}`);
  const m = loadModelDir(path.join(c.trainer.output_dir, 'best'));
  assert.deepEqual(m.manifest.state, { separateTargetVocab: true });
  const task = m.task as GenerationTask;
  const [p] = task.predict(m.model, [task.encode({ source: 'a b c d' })]);
  assert.equal(p.text, 'd c b a');
  assert.equal(task.formatPrediction({ source: 'a b c d' }, p), 'a b c d\td c b a');
  m.model.dispose();
});

test('Transformer seq2seq learns to copy letter sequences; greedy and beam agree on a confident model', async () => {
  const dir = tempDir();
  writeReversal(dir, false);
  const c = genConfig(dir, 'transformer', { label_smoothing: 0.1 });
  const summary = await train(c, { quiet: true, log: () => {} });
  assert.ok(summary.dev!.bleu > 80, `dev BLEU ${summary.dev!.bleu}`);
  const m = loadModelDir(path.join(c.trainer.output_dir, 'best'));
  const task = m.task as GenerationTask;
  const features = [task.encode({ source: 'h g a b e' }), task.encode({ source: 'c c d' })];
  const beams = task.generate(m.model, features);
  assert.equal(beams[0].length, 3);
  assert.ok(beams[0][0].score >= beams[0][1].score);
  const best = task.predict(m.model, features).map((p) => p.text);
  assert.deepEqual(best, ['h g a b e', 'c c d']);
  task.options.beam_size = 1;
  assert.deepEqual(
    task.predict(m.model, features).map((p) => p.text),
    best,
  );
  m.model.dispose();
});
