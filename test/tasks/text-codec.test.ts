import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextCodec, type CodecSpec } from '../../src/tasks/text-codec.js';
import { Rng } from '../../src/util/rng.js';

// Pieces that exercise token boundaries: words, CJK, specials written in text, accents and marks,
// emoji with a variation selector, punctuation glued to words, and every ASCII whitespace.
const PIECES = [
  'Hello',
  'world',
  'NLP2024',
  '房间',
  '很好',
  '[UNK]',
  '[MASK]',
  'e\u0301',
  '\u2764\uFE0F',
  '😀',
  '!',
  '...',
  '<html>',
  'naïve',
  '[not',
  'special]',
];
const SPACES = [' ', '  ', '\t', '\n', '\r\n', '', '\u3000'];

function randomText(rng: Rng, pieces: number): string {
  let text = '';
  for (let i = 0; i < pieces; i++) {
    text += PIECES[rng.int(PIECES.length)] + SPACES[rng.int(SPACES.length)];
  }
  return text;
}

function codecFor(type: 'char' | 'whitespace', maxLen: number, specials: boolean, texts: string[]) {
  const spec: CodecSpec = { tokenizer: { type }, maxLen, specials };
  return TextCodec.fit(spec, texts, { minFreq: 2, maxSize: 1000 });
}

/** encode as it was before the cut: tokenise the whole text, then keep max_len. */
function encodeWhole(codec: TextCodec, text: string): number[] {
  let tokens = codec.tokenize(text);
  if (tokens.length === 0) tokens = [codec.vocab.token(codec.vocab.unkId)];
  return codec.vocab.encode(tokens, {
    maxLen: codec.spec.maxLen,
    addCls: codec.spec.specials,
    addSep: codec.spec.specials,
  });
}

test('encode gives the same ids as tokenising the whole text, for texts of every length', () => {
  const rng = new Rng(7);
  const texts = Array.from({ length: 300 }, () => randomText(rng, 1 + rng.int(400)));
  for (const type of ['char', 'whitespace'] as const) {
    for (const [maxLen, specials] of [
      [1, false],
      [3, true],
      [8, false],
      [64, true],
      [256, false],
    ] as const) {
      const codec = codecFor(type, maxLen, specials, texts);
      for (const text of [...texts, '', ' ', '\n\n', 'x'.repeat(5000), `${'a '.repeat(3000)}[UNK]`]) {
        assert.deepEqual(codec.encode(text).ids, encodeWhole(codec, text), `${type} ${maxLen}: ${text}`);
      }
    }
  }
});

test('encode tokenises only the start of a long text', () => {
  const rng = new Rng(3);
  const long = randomText(rng, 20000);
  for (const type of ['char', 'whitespace'] as const) {
    const codec = codecFor(type, 32, false, [long]);
    const tokenised: number[] = [];
    const tokenize = codec.tokenize.bind(codec);
    codec.tokenize = (text: string) => {
      tokenised.push(text.length);
      return tokenize(text);
    };
    const ids = codec.encode(long).ids;
    assert.ok(tokenised.length > 0 && Math.max(...tokenised) < long.length / 10, `${type}: ${tokenised}`);
    codec.tokenize = tokenize;
    assert.deepEqual(ids, encodeWhole(codec, long));
  }
});
