import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32, ngramIds, ngramSpecOf } from '../../src/data/ngram-hash.js';
import { textIds } from '../../src/data/text-ids.js';
import { Vocab } from '../../src/data/vocab.js';

test('fnv1a32: the FNV reference vectors and UTF-8 bytes', () => {
  // From the FNV specification (draft-eastlake-fnv): "", "a", "foobar".
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  // "中文" is E4 B8 AD E6 96 87 in UTF-8; hashed by hand over those six bytes: 0xc488f045.
  assert.equal(fnv1a32('中文'), 0xc488f045);
  assert.equal(fnv1a32('new york'), 0x02c061c8);
});

/** The definition, written the slow way: FNV-1a over TextEncoder's bytes of each key string. */
function referenceHash(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

function referenceIds(tokens: string[], wordNgrams: number, buckets: number, chars?: [number, number]) {
  const out: number[] = [];
  const id = (key: string) => 100 + (referenceHash(key) % buckets);
  for (let n = 2; n <= wordNgrams; n++)
    for (let i = 0; i + n <= tokens.length; i++) out.push(id(tokens.slice(i, i + n).join(' ')));
  if (chars)
    for (const token of tokens) {
      const cs = ['<', ...token, '>'];
      for (let i = 0; i < cs.length; i++)
        for (let n = chars[0]; n <= chars[1] && i + n <= cs.length; n++)
          if (!(n === 1 && (i === 0 || i === cs.length - 1))) out.push(id(cs.slice(i, i + n).join('')));
    }
  return out;
}

test('fnv1a32 and ngramIds match the slow definition on random text (ASCII, CJK, emoji, lone surrogates)', () => {
  const pieces = [
    'a',
    'Z',
    ' ',
    'é',
    'ß',
    '中',
    '文',
    '😀',
    '𝄞',
    '\ud800',
    '\udfff',
    '\u07ff',
    '\u0800',
    '\uffff',
  ];
  let seed = 7;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const word = () => Array.from({ length: 1 + next(5) }, () => pieces[next(pieces.length)]).join('');
  for (let k = 0; k < 300; k++) {
    const w = word();
    assert.equal(fnv1a32(w), referenceHash(w), JSON.stringify(w));
    const tokens = Array.from({ length: next(7) }, word);
    const spec = {
      wordNgrams: 1 + next(3),
      buckets: 1 + next(1000),
      charNgrams: [1 + next(2), 2 + next(3)] as [number, number],
    };
    assert.deepEqual(
      ngramIds(tokens, spec, 100),
      referenceIds(tokens, spec.wordNgrams, spec.buckets, spec.charNgrams),
      JSON.stringify({ tokens, spec }),
    );
  }
});

test('ngramIds: word n-grams by length then position, then character n-grams, from base', () => {
  const h = (key: string) => 100 + (fnv1a32(key) % 7);
  const words = ngramIds(['new', 'york', 'city'], { wordNgrams: 3, buckets: 7 }, 100);
  assert.deepEqual(words, [h('new york'), h('york city'), h('new york city')]);
  assert.equal(h('new york'), 100 + (46162376 % 7));
  const chars = ngramIds(
    ['ab', '[UNK]'],
    { wordNgrams: 1, buckets: 7, charNgrams: [1, 3] },
    100,
    new Set(['[UNK]']),
  );
  // "<ab>": singles a, b (not the lone markers), pairs <a ab b>, triples <ab ab>; [UNK] gets none.
  assert.deepEqual(chars, [h('<a'), h('<ab'), h('a'), h('ab'), h('ab>'), h('b'), h('b>')]);
  assert.equal(h('<ab'), 100 + (1218209508 % 7));
});

test('ngramSpecOf: only a BOW asking for n-grams gets them', () => {
  assert.equal(ngramSpecOf({ net: 'bow', ngrams: 1, buckets: 9 }), undefined);
  assert.equal(ngramSpecOf({ net: 'cnn', ngrams: 2, buckets: 9 }), undefined);
  assert.deepEqual(ngramSpecOf({ net: 'bow', ngrams: 2, buckets: 9 }), {
    wordNgrams: 2,
    buckets: 9,
    charNgrams: undefined,
  });
});

test('textIds: n-gram ids follow the tokens max_len keeps, in rows after the vocabulary', () => {
  const vocab = new Vocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b']);
  const spec = {
    tokenize: (t: string) => t.split(' ').filter(Boolean),
    tokenizerType: 'whitespace',
    maxLen: 3,
    specials: false,
    ngrams: { wordNgrams: 2, buckets: 5 },
  };
  const ids = textIds(vocab, spec, 'a b zz a b');
  const h = (key: string) => vocab.size + (fnv1a32(key) % 5);
  assert.deepEqual(ids, [5, 6, 1, h('a b'), h('b zz')]);
  assert.ok(ids.every((id) => id < vocab.size + 5));
});
