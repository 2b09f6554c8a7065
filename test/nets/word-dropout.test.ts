import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int64, manualSeed, tensor } from '../../src/engine/create.js';
import { noGrad, tidy } from '../../src/engine/scope.js';
import { Embedding } from '../../src/engine/nn/embedding.js';
import { Vocab } from '../../src/data/vocab.js';
import { BowEncoder } from '../../src/nets/bow.js';
import { buildEncoder } from '../../src/nets/build.js';
import { TransformerEncoder } from '../../src/nets/transformer.js';
import { DEFAULT_WORD_DROPOUT, wordDropoutIds, wordDropoutRate } from '../../src/nets/word-dropout.js';
import { parseConfig } from '../../src/config/run-config.js';

/** Row i of the table holds the number i, so a lookup shows which id was read. */
function identityTable(): Embedding {
  const e = new Embedding(8, 1, { paddingIdx: 0 });
  noGrad(() => e.weight.copy_(tensor([0, 1, 2, 3, 4, 5, 6, 7], [8, 1])));
  return e;
}

test('word dropout: training reads some words as [UNK], never a kept id; evaluation reads every id', () => {
  manualSeed(3);
  const e = identityTable();
  e.tokenDropout = { p: 0.3, to: 1, keep: [0, 1, 2] };
  const ids = Array.from({ length: 2000 }, (_, i) => [5, 0, 2, 7][i % 4]);
  const read = () => tidy(() => e.forward(int64(ids, [1, ids.length])).toArray());
  const trained = read();
  ids.forEach((id, i) => {
    if (id === 0 || id === 2) assert.equal(trained[i], id, 'padding and specials are kept');
    else assert.ok(trained[i] === id || trained[i] === 1, `id ${id} read as ${trained[i]}`);
  });
  const dropped = trained.filter((v, i) => v === 1 && ids[i] !== 1).length / 1000;
  assert.ok(dropped > 0.25 && dropped < 0.35, `dropped share ${dropped}`);
  e.eval();
  assert.deepEqual(read(), ids);
});

test('word dropout is on by default for word-level nets from scratch, off for characters and pretrained', () => {
  assert.equal(wordDropoutRate({}, 'words'), DEFAULT_WORD_DROPOUT);
  assert.equal(wordDropoutRate({}, 'jieba'), DEFAULT_WORD_DROPOUT);
  assert.equal(wordDropoutRate({}, 'char'), 0);
  assert.equal(wordDropoutRate({}, 'wordpiece'), 0);
  assert.equal(wordDropoutRate({ pretrained_dir: '/m' }, 'words'), 0);
  assert.equal(wordDropoutRate({ word_dropout: 0.2 }, 'char'), 0.2);

  const vocab = new Vocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b']);
  const config = (net: string, extra = {}) =>
    parseConfig(
      {
        task: 'text_classification',
        dataset: { train: 't' },
        model: { net, ...extra },
        trainer: { output_dir: 'o' },
      },
      'c.json',
    ).model;
  const bow = buildEncoder(config('bow'), vocab.size, 0, wordDropoutIds(vocab, 'words')) as BowEncoder;
  assert.deepEqual(bow.embedding.tokenDropout, { p: DEFAULT_WORD_DROPOUT, to: 1, keep: [0, 1, 2, 3, 4] });
  const small = { hidden_size: 8, num_heads: 2, ffn_size: 8, num_layers: 1 };
  const t = buildEncoder(config('transformer', small), vocab.size, 0, wordDropoutIds(vocab, 'words'));
  assert.equal((t as TransformerEncoder).embeddings.word.tokenDropout?.p, DEFAULT_WORD_DROPOUT);
  const c = buildEncoder(config('bow'), vocab.size, 0, wordDropoutIds(vocab, 'char')) as BowEncoder;
  assert.equal(c.embedding.tokenDropout, undefined);
});
