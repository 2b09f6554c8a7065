import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/util/errors.js';
import { SPECIAL_TOKENS, Vocab } from '../../src/data/vocab.js';
import { tempDir } from '../helpers/tiny-data.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const tmp = (): string => tempDir('alembic-vocab-');

// Counts: a=3, c=2, b=1, d=1.
const STREAM = [
  ['b', 'a', 'c', 'a'],
  ['c', 'a', 'd'],
];

test('build puts the specials at 0..4, then frequency descending, ties by token', () => {
  assert.deepEqual(SPECIAL_TOKENS, SPECIALS);
  const v = Vocab.build(STREAM);
  assert.deepEqual(v.tokens, [...SPECIALS, 'a', 'c', 'b', 'd']);
  assert.equal(v.size, 9);
  assert.deepEqual([v.padId, v.unkId, v.clsId, v.sepId, v.maskId], [0, 1, 2, 3, 4]);
  assert.equal(v.id('a'), 5);
  assert.equal(v.id('d'), 8);
  assert.equal(v.id('never-seen'), 1);
  assert.equal(v.token(6), 'c');
  assert.throws(() => v.token(9), RangeError);
});

test('build orders equal counts by UTF-16 code units, not locale', () => {
  const v = Vocab.build([['中', 'b', 'B', 'a', 'x', 'x']]);
  assert.deepEqual(v.tokens.slice(5), ['x', 'B', 'a', 'b', '中']);
});

test('build applies min_freq and max_size (specials count towards max_size)', () => {
  assert.deepEqual(Vocab.build(STREAM, { minFreq: 2 }).tokens.slice(5), ['a', 'c']);
  assert.deepEqual(Vocab.build(STREAM, { maxSize: 6 }).tokens, [...SPECIALS, 'a']);
  assert.deepEqual(Vocab.build(STREAM, { maxSize: 5 }).tokens, SPECIALS);
  assert.throws(() => Vocab.build(STREAM, { maxSize: 4 }), UserError);
});

test('build does not duplicate a special token that occurs in the data', () => {
  const v = Vocab.build([['[UNK]', '[UNK]', 'x']]);
  assert.deepEqual(v.tokens, [...SPECIALS, 'x']);
});

test('save writes vocab.txt atomically and load reads it back', () => {
  const dir = tmp();
  const path = join(dir, 'vocab.txt');
  const v = Vocab.build([['我', '爱', '我', 'nlp']]);
  v.save(path);
  assert.equal(readFileSync(path, 'utf8'), [...SPECIALS, '我', 'nlp', '爱'].join('\n') + '\n');
  assert.deepEqual(readdirSync(dir), ['vocab.txt']);
  const back = Vocab.load(path);
  assert.deepEqual(back.tokens, v.tokens);
  assert.equal(back.id('爱'), v.id('爱'));
});

test('save refuses a token with a line break', () => {
  const v = new Vocab([...SPECIALS, 'a\nb']);
  assert.throws(() => v.save(join(tmp(), 'vocab.txt')), UserError);
});

test('load keeps the file ids and finds the specials by name (CRLF, BOM, blank lines)', () => {
  const path = join(tmp(), 'vocab.txt');
  writeFileSync(path, '\uFEFF[UNK]\r\n[PAD]\r\nhello\r\n\r\n[CLS]\r\n[SEP]\r\nhello\r\n');
  const v = Vocab.load(path);
  assert.equal(v.size, 7);
  assert.deepEqual([v.unkId, v.padId, v.clsId, v.sepId, v.maskId], [0, 1, 4, 5, undefined]);
  assert.equal(v.token(3), '');
  // A duplicated token maps to its last id (as Hugging Face's load_vocab); its first line still owns id 2.
  assert.equal(v.id('hello'), 6);
  assert.equal(v.token(2), 'hello');
  assert.deepEqual(v.encode(['hello', 'bye'], { maxLen: 10, addCls: true, addSep: true }), [4, 6, 0, 5]);
});

test('load errors on a missing file or a vocabulary without [UNK]/[PAD]', () => {
  const dir = tmp();
  assert.throws(
    () => Vocab.load(join(dir, 'nope.txt')),
    (e: unknown) => e instanceof UserError && /not found/.test(e.message),
  );
  const noUnk = join(dir, 'no-unk.txt');
  writeFileSync(noUnk, '[PAD]\na\n');
  assert.throws(
    () => Vocab.load(noUnk),
    (e: unknown) => e instanceof UserError && /\[UNK\]/.test(e.message),
  );
  const noPad = join(dir, 'no-pad.txt');
  writeFileSync(noPad, '[UNK]\na\n');
  assert.throws(
    () => Vocab.load(noPad),
    (e: unknown) => e instanceof UserError && /\[PAD\]/.test(e.message),
  );
});

test('encode maps tokens, adds [CLS]/[SEP] and truncates to max_len', () => {
  const v = Vocab.build(STREAM); // a=5 c=6 b=7 d=8
  assert.deepEqual(v.encode(['a', 'b', 'c', 'zz'], { maxLen: 10 }), [5, 7, 6, 1]);
  assert.deepEqual(v.encode(['a', 'b', 'c', 'zz'], { maxLen: 4, addCls: true, addSep: true }), [2, 5, 7, 3]);
  assert.deepEqual(v.encode(['a', 'b', 'c'], { maxLen: 2, addCls: true }), [2, 5]);
  assert.deepEqual(v.encode(['a'], { maxLen: 2, addCls: true, addSep: true }), [2, 3]);
  assert.throws(() => v.encode(['a'], { maxLen: 1, addCls: true, addSep: true }), UserError);
});

test('encodePair builds [CLS] a [SEP] b [SEP] with longest-first truncation', () => {
  const v = Vocab.build([['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3']]);
  const id = (t: string): number => v.id(t);
  const a = ['a1', 'a2', 'a3', 'a4', 'a5'];
  // Fits: 3 + 5 + 2 = 10.
  const full = v.encodePair(a, ['b1', 'b2'], { maxLen: 10 });
  assert.deepEqual(full.ids, [2, ...a.map(id), 3, id('b1'), id('b2'), 3]);
  assert.deepEqual(full.typeIds, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
  // Room 5 for 5 + 2: the longer side (a) loses two.
  const cut = v.encodePair(a, ['b1', 'b2'], { maxLen: 8 });
  assert.deepEqual(cut.ids, [2, id('a1'), id('a2'), id('a3'), 3, id('b1'), id('b2'), 3]);
  assert.deepEqual(cut.typeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
  // Room 4 for 3 + 3: b loses on the tie, then a: 2 + 2.
  const tie = v.encodePair(['a1', 'a2', 'a3'], ['b1', 'b2', 'b3'], { maxLen: 7 });
  assert.deepEqual(tie.ids, [2, id('a1'), id('a2'), 3, id('b1'), id('b2'), 3]);
  // Room 3: the short side survives whole.
  const short = v.encodePair(['a1'], ['b1', 'b2', 'b3', 'a5'], { maxLen: 6 });
  assert.deepEqual(short.ids, [2, id('a1'), 3, id('b1'), id('b2'), 3]);
  assert.deepEqual(short.typeIds, [0, 0, 0, 1, 1, 1]);
  assert.throws(() => v.encodePair(['a1'], ['b1'], { maxLen: 2 }), UserError);
});

test('encodePair needs [CLS] and [SEP] in a loaded vocabulary', () => {
  const v = new Vocab(['[PAD]', '[UNK]', 'a']);
  assert.throws(
    () => v.encodePair(['a'], ['a'], { maxLen: 8 }),
    (e: unknown) => e instanceof UserError && /\[CLS\]/.test(e.message),
  );
  assert.throws(() => v.encode(['a'], { maxLen: 8, addSep: true }), UserError);
  assert.deepEqual(v.encode(['a', 'b'], { maxLen: 8 }), [2, 1]);
});
