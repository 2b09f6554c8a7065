import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed } from '../../src/engine/create.js';
import { saveTensors } from '../../src/engine/state-io.js';
import { readCheckpointTokenizer } from '../../src/config/checkpoint-tokenizer.js';
import { WordPieceTokenizer, wordPieceOptions } from '../../src/data/tokenizers/wordpiece.js';
import { Vocab } from '../../src/data/vocab.js';
import { loadPretrained } from '../../src/nets/pretrained.js';
import { TransformerEncoder } from '../../src/nets/transformer.js';
import { parseConfig } from '../../src/config/run-config.js';
import { tempDir } from '../helpers/tiny-data.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const vocab = (...tokens: string[]) => new Vocab([...SPECIALS, ...tokens]);

test('CJK compatibility ideographs: mapped to the unified form when accents are stripped, as Hugging Face', () => {
  const v = vocab('豈', '丽', '中');
  // U+F900 → U+8C48 and U+2F800 → U+4E3D by canonical decomposition.
  const uncased = new WordPieceTokenizer(v, { lowercase: true });
  const r = uncased.tokenizeWithOffsets('\uF900\u{2F800}中');
  assert.deepEqual(r.tokens, ['豈', '丽', '中']);
  assert.deepEqual(r.offsets, [
    [0, 1],
    [1, 3],
    [3, 4],
  ]);
  // BertTokenizerFast leaves them alone when it does not strip accents (a cased checkpoint): so do we.
  const cased = new WordPieceTokenizer(v, { lowercase: false });
  assert.deepEqual(cased.tokenize('\uF900中'), ['[UNK]', '中']);
  assert.deepEqual(new WordPieceTokenizer(v, { lowercase: false, stripAccents: true }).tokenize('\uF900'), [
    '豈',
  ]);
});

test('special tokens written in the text stay single tokens with their offsets; a lowercased one does not', () => {
  const v = vocab('a', 'b', '[', ']', 'mask', '[SPECIAL]');
  const t = new WordPieceTokenizer(v, { lowercase: true, specials: ['[SPECIAL]', '[NOT-IN-VOCAB]'] });
  const r = t.tokenizeWithOffsets('A [MASK] b[SEP][SPECIAL]a [mask]');
  assert.deepEqual(r.tokens, ['a', '[MASK]', 'b', '[SEP]', '[SPECIAL]', 'a', '[', 'mask', ']']);
  assert.deepEqual(r.offsets.slice(0, 5), [
    [0, 1],
    [2, 8],
    [9, 10],
    [10, 15],
    [15, 24],
  ]);
  assert.deepEqual(r.wordIndex, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  // A special the vocabulary lacks is ordinary text.
  assert.deepEqual(t.tokenize('[NOT-IN-VOCAB]'), ['[', '[UNK]', '[UNK]', '[UNK]', '[UNK]', '[UNK]', ']']);
});

test('strip_accents and tokenize_chinese_chars switch independently of lowercase', () => {
  const v = vocab('café', 'cafe', 'Café', '中文', '中', '文');
  assert.deepEqual(new WordPieceTokenizer(v, { lowercase: true, stripAccents: false }).tokenize('Café'), [
    'café',
  ]);
  assert.deepEqual(new WordPieceTokenizer(v, { lowercase: true }).tokenize('Café'), ['cafe']);
  assert.deepEqual(new WordPieceTokenizer(v, { lowercase: false }).tokenize('Café'), ['Café']);
  assert.deepEqual(
    new WordPieceTokenizer(v, { lowercase: false, tokenizeChineseChars: false }).tokenize('中文'),
    ['中文'],
  );
  assert.deepEqual(new WordPieceTokenizer(v, { lowercase: false }).tokenize('中文'), ['中', '文']);
});

function tokenizerJson(lowercase: boolean, type = 'WordPiece') {
  const tokens = [...SPECIALS, 'Hello', 'hello', '[E1]'];
  return JSON.stringify({
    added_tokens: [
      ...SPECIALS.map((content, id) => ({ id, content, special: true })),
      { id: 7, content: '[E1]', special: true },
    ],
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase,
    },
    model: { type, unk_token: '[UNK]', vocab: Object.fromEntries(tokens.map((t, i) => [t, i])) },
  });
}

test('a checkpoint with only tokenizer.json: its vocabulary, normalizer and specials are used', () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'tokenizer.json'), tokenizerJson(false));
  const own = readCheckpointTokenizer(dir);
  assert.equal(own.vocabFile, path.join(dir, 'tokenizer.json'));
  assert.equal(own.lowercase, false);
  assert.deepEqual(own.specials, [...SPECIALS, '[E1]']);
  const v = Vocab.load(own.vocabFile!);
  assert.equal(v.size, 8);
  assert.equal(v.id('Hello'), 5);
  writeFileSync(path.join(dir, 'train.tsv'), 'Hello\tx\n');
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: 'train.tsv', tokenizer: { type: 'wordpiece' } },
      model: { net: 'transformer', pretrained_dir: '.' },
      trainer: { output_dir: 'run' },
    },
    path.join(dir, 'c.json'),
  );
  assert.equal(config.dataset.tokenizer.lowercase, false);
  assert.equal(config.dataset.tokenizer.strip_accents, false);
  assert.deepEqual(config.dataset.tokenizer.special_tokens, [...SPECIALS, '[E1]']);
  const t = new WordPieceTokenizer(v, wordPieceOptions(config.dataset.tokenizer));
  assert.deepEqual(t.tokenize('Hello hello[E1]'), ['Hello', 'hello', '[E1]']);
  writeFileSync(path.join(dir, 'tokenizer.json'), tokenizerJson(false, 'BPE'));
  assert.throws(
    () => Vocab.load(path.join(dir, 'tokenizer.json')),
    /model\.type: "BPE": only WordPiece tokenizers are supported/,
  );
});

test('a cased checkpoint (tokenizer_config.json do_lower_case false) is not lowercased by default; the config still wins', () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'vocab.txt'), [...SPECIALS, 'Hello'].join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ do_lower_case: false, tokenize_chinese_chars: true }),
  );
  writeFileSync(path.join(dir, 'train.tsv'), 'Hello\tx\n');
  const parse = (tokenizer: object) =>
    parseConfig(
      {
        task: 'text_classification',
        dataset: { train: 'train.tsv', tokenizer },
        model: { net: 'transformer', pretrained_dir: '.' },
        trainer: { output_dir: 'run' },
      },
      path.join(dir, 'c.json'),
    ).dataset.tokenizer;
  assert.equal(parse({ type: 'wordpiece' }).lowercase, false);
  assert.equal(parse({ type: 'wordpiece', lowercase: true }).lowercase, true);
  // PaddleNLP's model_config.json is read too.
  const paddle = tempDir();
  writeFileSync(
    path.join(paddle, 'model_config.json'),
    JSON.stringify({ init_args: [{ do_lower_case: false }] }),
  );
  assert.equal(readCheckpointTokenizer(paddle).lowercase, false);
  // Without any setting, lowercase is the default (as BertTokenizer's).
  assert.equal(readCheckpointTokenizer(tempDir()).lowercase, undefined);
});

test('loadPretrained warns when dataset.tokenizer does not fit the checkpoint', () => {
  manualSeed(1);
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const options = { vocabSize: 6, hiddenSize: 4, numLayers: 1, numHeads: 1, ffnSize: 8, maxPositions: 8 };
  const source = new TransformerEncoder(options);
  saveTensors(path.join(dir, 'model.safetensors'), source.stateDict());
  writeFileSync(path.join(dir, 'vocab.txt'), [...SPECIALS, 'Hello'].join('\n') + '\n');
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
  const warnings: string[] = [];
  loadPretrained(new TransformerEncoder(options), dir, {
    log: () => {},
    warn: (m) => warnings.push(m),
    tokenizer: { type: 'char', lowercase: true },
  });
  assert.equal(warnings.length, 2);
  assert.match(
    warnings[0],
    /dataset\.tokenizer\.type is "char", but .* was trained on WordPiece tokens of vocab\.txt/,
  );
  assert.match(
    warnings[1],
    /dataset\.tokenizer\.lowercase is true, but .*tokenizer_config\.json says do_lower_case false/,
  );
  const quiet: string[] = [];
  loadPretrained(new TransformerEncoder(options), dir, {
    log: () => {},
    warn: (m) => quiet.push(m),
    tokenizer: { type: 'wordpiece', lowercase: false },
  });
  assert.deepEqual(quiet, []);
});
