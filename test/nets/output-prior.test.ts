// A language model and a generator start at their training targets' unigram distribution: the output
// bias of every preset is log((count + 1) / (tokens + vocabulary)), counted by hand here over the
// training texts (each text's tokens and its end), so a short run starts from a unigram count.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/run-config.js';
import { CausalLmTask } from '../../src/tasks/language-model.js';
import { GenerationTask } from '../../src/tasks/generation.js';
import type { Vocab } from '../../src/data/vocab.js';
import { tempDir } from '../helpers/tiny-data.js';

const TEXTS = ['a b a c', 'a a b', 'c a'];

/** The add-one log unigram of the texts' space-separated tokens plus one end per text, over `vocab`. */
function expectedBias(texts: string[], vocab: Vocab, endId: number): number[] {
  const counts = new Array<number>(vocab.size).fill(0);
  for (const t of texts) {
    for (const tok of t.split(' ')) counts[vocab.id(tok)]++;
    counts[endId]++;
  }
  const total = counts.reduce((s, c) => s + c, 0) + vocab.size;
  return counts.map((c) => Math.log((c + 1) / total));
}

function config(task: string, net: string) {
  const dir = tempDir();
  return parseConfig(
    {
      task,
      dataset: { train: 'train.txt', tokenizer: { type: 'whitespace' } },
      model: { net, embedding_dim: 8, hidden_size: 8, num_layers: 1, num_heads: 2, ffn_size: 16 },
      trainer: { output_dir: 'run', threads: 1 },
    },
    path.join(dir, 'config.json'),
  );
}

function assertClose(got: number[], want: number[]): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-5, `bias[${i}] ${g} against ${want[i]}`));
}

for (const net of ['gru', 'transformer']) {
  test(`a ${net} language model starts at the training unigram`, () => {
    const task = new CausalLmTask(config('language_model', net));
    task.fit(TEXTS.map((text) => ({ text })));
    const model = task.buildModel();
    const bias = model.net.outputBias.toArray();
    assertClose(bias, expectedBias(TEXTS, task.codec.vocab, task.ids().eos));
    // The commonest token ("a": 5 of 12 scored tokens) gets the largest bias.
    assert.equal(bias.indexOf(Math.max(...bias)), task.codec.vocab.id('a'));
  });

  test(`a ${net} generator starts at the unigram of the training targets`, () => {
    const task = new GenerationTask(config('text_generation', net));
    const examples = TEXTS.map((target, i) => ({ source: `s${i} x`, target }));
    task.fit(examples);
    const model = task.buildModel();
    assertClose(model.net.outputBias.toArray(), expectedBias(TEXTS, task.target.vocab, task.targetIds().eos));
  });
}
