import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/util/errors.js';
import { Vocab } from '../../src/data/vocab.js';
import { createTokenizer } from '../../src/data/tokenizers/create-tokenizer.js';
import type { OffsetTokenizer } from '../../src/data/tokenizers/tokenizer.js';
import { CharTokenizer } from '../../src/data/tokenizers/char.js';
import { WhitespaceTokenizer } from '../../src/data/tokenizers/whitespace.js';
import { JiebaTokenizer, posTag } from '../../src/data/tokenizers/jieba.js';
import { WordPieceTokenizer } from '../../src/data/tokenizers/wordpiece.js';
import { basicTokenize } from '../../src/data/tokenizers/bert-basic.js';
import { lowercaseStripAccents } from '../../src/data/tokenizers/unicode.js';
import { tempDir } from '../helpers/tiny-data.js';

/** Every token must be its source slice, up to lowercasing/accent stripping and the "##" prefix. */
function assertOffsetsMatch(tokenizer: OffsetTokenizer, text: string): void {
  const { tokens, offsets, wordIndex } = tokenizer.tokenizeWithOffsets(text);
  assert.equal(offsets.length, tokens.length);
  assert.equal(wordIndex.length, tokens.length);
  assert.deepEqual(tokens, tokenizer.tokenize(text));
  tokens.forEach((token, i) => {
    if (token === '[UNK]') return;
    const [start, end] = offsets[i];
    assert.equal(
      lowercaseStripAccents(text.slice(start, end)),
      lowercaseStripAccents(token.replace(/^##/, '')),
    );
  });
}

test('char: CJK characters are tokens, Latin/digit runs stay words, lowercased', () => {
  const t = new CharTokenizer({ lowercase: true });
  assert.deepEqual(t.tokenize('我爱NLP 2024'), ['我', '爱', 'nlp', '2024']);
  assert.deepEqual(t.tokenizeWithOffsets('我爱NLP 2024').offsets, [
    [0, 1],
    [1, 2],
    [2, 5],
    [6, 10],
  ]);
  assert.deepEqual(t.tokenize('房间 太 小 。'), ['房', '间', '太', '小', '。']);
  assert.deepEqual(t.tokenize('价格：99.5元，Hello!'), [
    '价',
    '格',
    '：',
    '99',
    '.',
    '5',
    '元',
    '，',
    'hello',
    '!',
  ]);
  assert.deepEqual(new CharTokenizer({ lowercase: false }).tokenize('我爱NLP'), ['我', '爱', 'NLP']);
});

test('char: English, astral ideographs, emoji with a variation selector, offsets', () => {
  const t = new CharTokenizer({ lowercase: true });
  assert.deepEqual(t.tokenize("Don't stop,  café\tnow"), ['don', "'", 't', 'stop', ',', 'café', 'now']);
  assert.deepEqual(t.tokenizeWithOffsets('𠀀好').offsets, [
    [0, 2],
    [2, 3],
  ]);
  assert.deepEqual(t.tokenize('好❤️啊'), ['好', '❤\uFE0F', '啊']);
  assert.deepEqual(t.tokenizeWithOffsets('a b').wordIndex, [0, 1]);
  // A lone surrogate is a removed control character; a combining accent stays inside its word.
  assert.deepEqual(t.tokenize('a\uD800b 好\uDC00cafe\u0301'), ['a', 'b', '好', 'cafe\u0301']);
  assertOffsetsMatch(t, '我在 Apple 工作，月薪 ３０００ 元！😀');
});

test('whitespace: splits on any whitespace, keeps pre-segmented words', () => {
  const t = new WhitespaceTokenizer({ lowercase: true });
  assert.deepEqual(t.tokenize('房间 太 小 。'), ['房间', '太', '小', '。']);
  assert.deepEqual(t.tokenize('  The  Cat\tsat\n'), ['the', 'cat', 'sat']);
  assert.deepEqual(t.tokenize('我们\u3000好'), ['我们', '好']);
  assert.deepEqual(t.tokenizeWithOffsets('  The  Cat').offsets, [
    [2, 5],
    [7, 10],
  ]);
  assert.deepEqual(new WhitespaceTokenizer({ lowercase: false }).tokenize('The Cat'), ['The', 'Cat']);
  assert.deepEqual(t.tokenize(' \n '), []);
});

test('whitespace: splits exactly where /\\S+/gu does, for every BMP code unit and around surrogates', () => {
  const t = new WhitespaceTokenizer({ lowercase: false });
  const reference = (text: string) => [...text.matchAll(/\S+/gu)].map((m) => m[0]);
  // Every BMP code unit but the surrogates, each between two letters: a space splits, anything else joins.
  const units: string[] = [];
  for (let c = 0; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) units.push(String.fromCharCode(c));
  const every = units.map((u) => `a${u}b`).join(' ');
  assert.deepEqual(t.tokenize(every), reference(every));
  assert.equal(reference(every).length > units.length, true, 'the spaces inside the pairs split them');
  // Pairs, lone surrogates and leading/trailing/repeated spaces.
  for (const text of [
    '😀 a\u3000b\ufeff😀x',
    '\ud800 \udc00x \ud83d',
    '  \u2028 lead\t\v\ftrail \n',
    '',
    '   ',
  ]) {
    assert.deepEqual(t.tokenize(text), reference(text), JSON.stringify(text));
  }
});

test('jieba: segments Chinese words, drops whitespace, gives offsets', () => {
  const t = new JiebaTokenizer({ lowercase: true });
  assert.deepEqual(t.tokenize('我来到北京清华大学'), ['我', '来到', '北京', '清华大学']);
  assert.deepEqual(t.tokenizeWithOffsets('我来到北京清华大学').offsets, [
    [0, 1],
    [1, 3],
    [3, 5],
    [5, 9],
  ]);
  assert.deepEqual(t.tokenize('I love  NLP'), ['i', 'love', 'nlp']);
  assertOffsetsMatch(t, '他说：“我爱 NLP 2024！”\r\n好的');
});

test('jieba posTag: every word tagged, words join back to the text', () => {
  const tagged = posTag('我来到北京清华大学');
  assert.deepEqual(
    tagged.map((w) => w.word),
    ['我', '来到', '北京', '清华大学'],
  );
  assert.ok(tagged.every((w) => w.tag.length > 0));
  assert.equal(tagged.find((w) => w.word === '北京')?.tag, 'ns');
  assert.equal(tagged.find((w) => w.word === '来到')?.tag, 'v');
  const text = '今天 weather 很好。';
  assert.equal(
    posTag(text)
      .map((w) => w.word)
      .join(''),
    text,
  );
});

test('BERT basic tokenizer: lowercase + accents, CJK split, punctuation split', () => {
  const words = (text: string, lowercase: boolean): string[] =>
    basicTokenize(text, lowercase).map((w) => w.chars.join(''));
  assert.deepEqual(words('Hello, 世界! Héllo', true), ['hello', ',', '世', '界', '!', 'hello']);
  assert.deepEqual(words('Hello, 世界! Héllo', false), ['Hello', ',', '世', '界', '!', 'Héllo']);
  // Control/format characters are deleted and join their neighbours; ASCII symbols count as punctuation.
  assert.deepEqual(words('a\u200bb\u0000c x$y', true), ['abc', 'x', '$', 'y']);
  assert.deepEqual(words(' \t\n', true), []);
});

const WORDPIECE_VOCAB =
  '[PAD] [UNK] [CLS] [SEP] [MASK] un ##aff ##able want ##want ##ed wa runn ##ing hello , ! 世 界 a ##a'.split(
    ' ',
  );

test('wordpiece: greedy longest match with ## continuations, [UNK] for uncoverable words', () => {
  const t = new WordPieceTokenizer(new Vocab(WORDPIECE_VOCAB), { lowercase: true });
  assert.deepEqual(t.tokenize('unaffable'), ['un', '##aff', '##able']);
  assert.deepEqual(t.tokenize('UNwanted running'), ['un', '##want', '##ed', 'runn', '##ing']);
  assert.deepEqual(t.tokenize('unwantedX running'), ['[UNK]', 'runn', '##ing']);
  assert.deepEqual(t.tokenize('Hello, 世界! Héllo'), ['hello', ',', '世', '界', '!', 'hello']);
  assert.deepEqual(t.tokenize('我爱世界'), ['[UNK]', '[UNK]', '世', '界']);
  assert.deepEqual(t.tokenize(''), []);
});

test('wordpiece: words longer than 100 characters become one [UNK]', () => {
  const t = new WordPieceTokenizer(new Vocab(WORDPIECE_VOCAB), { lowercase: true });
  const hundred = t.tokenize('a'.repeat(100));
  assert.equal(hundred.length, 100);
  assert.deepEqual(hundred.slice(0, 2), ['a', '##a']);
  assert.deepEqual(t.tokenizeWithOffsets('x ' + 'a'.repeat(101)), {
    tokens: ['[UNK]', '[UNK]'],
    offsets: [
      [0, 1],
      [2, 103],
    ],
    wordIndex: [0, 1],
  });
});

test('wordpiece: offsets and word indices point back into the original text', () => {
  const t = new WordPieceTokenizer(new Vocab(WORDPIECE_VOCAB), { lowercase: true });
  assert.deepEqual(t.tokenizeWithOffsets('UNwanted, running'), {
    tokens: ['un', '##want', '##ed', ',', 'runn', '##ing'],
    offsets: [
      [0, 2],
      [2, 6],
      [6, 8],
      [8, 9],
      [10, 14],
      [14, 17],
    ],
    wordIndex: [0, 0, 0, 1, 2, 2],
  });
  // A deleted zero-width space inside the word: "##aff" starts after it.
  assert.deepEqual(t.tokenizeWithOffsets('un\u200baffable').offsets, [
    [0, 2],
    [3, 6],
    [6, 10],
  ]);
  // Accent stripping changes no offsets: "Héllo" maps back to its 5 source characters.
  assert.deepEqual(t.tokenizeWithOffsets('¡Héllo!').offsets, [
    [0, 1],
    [1, 6],
    [6, 7],
  ]);
  assertOffsetsMatch(t, 'Hello, 世界! Héllo unaffable UNWANTED');
});

test('createTokenizer builds each kind and reports bad specs as UserError', () => {
  const dir = tempDir('alembic-tok-');
  const vocabPath = join(dir, 'vocab.txt');
  writeFileSync(vocabPath, WORDPIECE_VOCAB.join('\n') + '\n');
  assert.equal(createTokenizer({ type: 'char' }).kind, 'char');
  assert.deepEqual(createTokenizer({ type: 'char' }).tokenize('我爱NLP'), ['我', '爱', 'nlp']);
  assert.deepEqual(createTokenizer({ type: 'char', lowercase: false }).tokenize('NLP'), ['NLP']);
  assert.equal(createTokenizer({ type: 'jieba' }).kind, 'jieba');
  assert.equal(createTokenizer({ type: 'whitespace' }).kind, 'whitespace');
  const wp = createTokenizer({ type: 'wordpiece', vocab: vocabPath });
  assert.equal(wp.kind, 'wordpiece');
  assert.deepEqual(wp.tokenize('Unaffable!'), ['un', '##aff', '##able', '!']);
  const userError = (pattern: RegExp) => (e: unknown) => e instanceof UserError && pattern.test(e.message);
  assert.throws(() => createTokenizer({ type: 'bpe' }), userError(/unknown type "bpe"/));
  assert.throws(() => createTokenizer({ type: 'wordpiece' }), userError(/needs "vocab"/));
  assert.throws(
    () => createTokenizer({ type: 'wordpiece', vocab: join(dir, 'missing.txt') }),
    userError(/not found/),
  );
});
