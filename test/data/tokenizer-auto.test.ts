import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chooseTokenizer } from '../../src/data/tokenizers/auto.js';
import { createTokenizer } from '../../src/data/tokenizers/create-tokenizer.js';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

test('words tokenizer: punctuation split off, CJK ideographs one word each, offsets into the text', () => {
  const t = createTokenizer({ type: 'words' });
  assert.deepEqual(t.tokenize("For these reasons. Don't—go!"), [
    'for',
    'these',
    'reasons',
    '.',
    'don',
    "'",
    't',
    '—',
    'go',
    '!',
  ]);
  assert.deepEqual(t.tokenize('NLP很棒'), ['nlp', '很', '棒']);
  const o = t.tokenizeWithOffsets('Hi, you');
  assert.deepEqual(o.offsets, [
    [0, 2],
    [2, 3],
    [4, 7],
  ]);
});

test('chooseTokenizer: mostly CJK letters → char, otherwise words', () => {
  assert.equal(chooseTokenizer(['这个酒店很棒 WiFi 不错', '房间太差了']).type, 'char');
  assert.equal(chooseTokenizer(['The room was clean.', 'Great 早餐 though']).type, 'words');
  assert.equal(chooseTokenizer(['12345 !!!']).type, 'words');
  assert.equal(chooseTokenizer(['ひらがなとカタカナ']).type, 'char');
});

test('"auto" cannot tokenize before training has settled it', () => {
  assert.throws(
    () => createTokenizer({ type: 'auto' }),
    (e: Error) => e instanceof UserError && /settled/.test(e.message),
  );
});

test('the default tokenizer is settled by the training data, printed, and saved with the model', async () => {
  const dir = tempDir('alembic-auto-');
  const english = path.join(dir, 'en.tsv');
  writeFileSync(
    english,
    ['Great room, clean.\tpos', 'Awful staff!\tneg', 'Clean, great.\tpos', 'Awful.\tneg'].join('\n') + '\n',
  );
  const chinese = writeSentimentSplits(dir, { train: 20, dev: 4, test: 4 }).train;
  for (const [file, expected] of [
    [english, 'words'],
    [chinese, 'char'],
  ] as const) {
    const out = path.join(dir, expected);
    const config = parseConfig(
      {
        task: 'text_classification',
        dataset: { train: file },
        model: { net: 'bow', embedding_dim: 4, hidden_size: 4 },
        trainer: { output_dir: out, epochs: 1, threads: 1 },
      },
      path.join(dir, 'c.json'),
    );
    assert.equal(config.dataset.tokenizer.type, 'auto');
    const lines: string[] = [];
    await train(config, { quiet: true, log: (l) => lines.push(l) });
    assert.ok(
      lines.includes(`tokenizer: auto chose "${expected}" from the training texts`),
      lines.join('\n'),
    );
    const manifest = JSON.parse(readFileSync(path.join(out, 'best', 'alembic-model.json'), 'utf8'));
    assert.equal(manifest.config.dataset.tokenizer.type, expected);
    if (expected === 'words') {
      const vocab = readFileSync(path.join(out, 'best', 'vocab.txt'), 'utf8').split('\n');
      assert.ok(vocab.includes('clean') && vocab.includes(',') && !vocab.includes('clean.'));
    }
  }
});
