import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/util/rng.js';
import { UserError } from '../../../src/util/errors.js';
import {
  nSample,
  parseStrategies,
  posReplace,
  strategyChooser,
  unkNoise,
  UNK_TOKEN,
} from '../../../src/distill/augment/strategies.js';
import { PosLexicon } from '../../../src/distill/augment/pos-lexicon.js';
import { HashSet64 } from '../../../src/distill/augment/dedupe.js';
import { joinWords, SegmentationDetector, splitOnSpaces } from '../../../src/distill/augment/words.js';

const words200 = Array.from({ length: 200 }, (_, i) => `w${i}`);

test('unkNoise replaces each word with probability p and leaves the rest in place', () => {
  const rng = new Rng(11);
  let replaced = 0;
  let total = 0;
  for (let run = 0; run < 100; run++) {
    const out = unkNoise(words200, 0.1, rng);
    assert.equal(out.length, words200.length);
    out.forEach((w, i) => {
      total++;
      if (w === UNK_TOKEN) replaced++;
      else assert.equal(w, words200[i]);
    });
  }
  // 20 000 Bernoulli(0.1) draws: sd of the rate is sqrt(0.09 / 20000) ≈ 0.0021; allow ~4.7 sd.
  assert.ok(Math.abs(replaced / total - 0.1) < 0.01, `rate ${replaced / total}`);
  assert.deepEqual(unkNoise(['a', 'b'], 0, rng), ['a', 'b']);
  assert.deepEqual(unkNoise(['a', 'b'], 1, rng), [UNK_TOKEN, UNK_TOKEN]);
});

function smallLexicon(): PosLexicon {
  const lexicon = new PosLexicon();
  lexicon.add('n', 'x', 6);
  lexicon.add('n', 'y', 3);
  lexicon.add('n', 'z', 1);
  lexicon.add('v', 'run', 2);
  lexicon.add('v', 'eat', 2);
  lexicon.add('d', 'the', 9); // the only word of its tag: cannot be swapped
  return lexicon;
}

test('PosLexicon draws another word of the tag in proportion to frequency, never the word itself', () => {
  const lexicon = smallLexicon();
  const rng = new Rng(5);
  const counts = new Map<string, number>();
  for (let i = 0; i < 8000; i++) {
    const w = lexicon.sampleOther('n', 'x', rng)!;
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  // Without x, y has weight 3 and z weight 1: P(y) = 3/4 → 6000 of 8000 (sd ≈ 39).
  assert.equal(counts.get('x'), undefined);
  assert.ok(Math.abs(counts.get('y')! - 6000) < 200, `y drawn ${counts.get('y')}`);
  assert.equal(counts.get('y')! + counts.get('z')!, 8000);
  assert.equal(lexicon.sampleOther('d', 'the', rng), undefined);
  assert.equal(lexicon.sampleOther('adj', 'red', rng), undefined);
  assert.equal(lexicon.sampleOther('v', 'run', rng), 'eat');
  assert.equal(lexicon.size, 6);
  assert.equal(lexicon.replaceableTags, 2);
  assert.throws(() => lexicon.add('n', 'late'), /after sampling/);
});

test('posReplace swaps tagged words at rate p, keeping their part of speech', () => {
  const lexicon = smallLexicon();
  const tagOf = new Map([
    ['x', 'n'],
    ['y', 'n'],
    ['z', 'n'],
    ['run', 'v'],
    ['eat', 'v'],
    ['the', 'd'],
  ]);
  const words = Array.from({ length: 100 }, (_, i) => ['x', 'run', 'the', 'hello', 'y'][i % 5]);
  const tags = words.map((w) => tagOf.get(w));
  const rng = new Rng(7);
  let eligible = 0;
  let replaced = 0;
  for (let run = 0; run < 250; run++) {
    const out = posReplace(words, tags, 0.1, lexicon, rng);
    out.forEach((w, i) => {
      if (words[i] === 'the' || words[i] === 'hello') {
        assert.equal(w, words[i], 'single-word tag and untagged words stay');
        return;
      }
      eligible++;
      if (w !== words[i]) {
        replaced++;
        assert.equal(tagOf.get(w), tags[i], `${words[i]} → ${w} changed POS`);
      }
    });
  }
  // 15 000 eligible words at p = 0.1: sd of the rate ≈ 0.0024.
  assert.ok(Math.abs(replaced / eligible - 0.1) < 0.012, `rate ${replaced / eligible}`);
});

test('nSample returns a contiguous span of length 0 < m ≤ len, covering every length', () => {
  const words = ['a', 'b', 'c', 'd', 'e'];
  const rng = new Rng(3);
  const lengths = new Map<number, number>();
  for (let i = 0; i < 2000; i++) {
    const span = nSample(words, rng);
    assert.ok(span.length > 0 && span.length <= words.length);
    const start = words.indexOf(span[0]);
    assert.deepEqual(span, words.slice(start, start + span.length));
    lengths.set(span.length, (lengths.get(span.length) ?? 0) + 1);
  }
  // m is uniform on 1..5: 400 each (sd ≈ 18).
  for (let m = 1; m <= 5; m++) assert.ok(Math.abs(lengths.get(m)! - 400) < 90, `m=${m}: ${lengths.get(m)}`);
  assert.deepEqual(nSample(['only'], rng), ['only']);
  assert.deepEqual(nSample([], rng), []);
});

test('strategyChooser mixes strategies in their weights; parseStrategies reads the CLI spec', () => {
  const choose = strategyChooser({ unk: 2, pos: 0, nsample: 1 });
  const rng = new Rng(9);
  let unk = 0;
  for (let i = 0; i < 6000; i++) {
    const s = choose(rng);
    assert.notEqual(s, 'pos');
    if (s === 'unk') unk++;
  }
  assert.ok(Math.abs(unk - 4000) < 150, `unk chosen ${unk}`); // 2/3 of 6000, sd ≈ 37
  assert.throws(() => strategyChooser({}), UserError);
  assert.throws(() => strategyChooser({ unk: -1, pos: 1 }), UserError);
  assert.deepEqual(parseStrategies('unk,pos,nsample'), { unk: 1, pos: 1, nsample: 1 });
  assert.deepEqual(parseStrategies('unk=2, nsample=0.5'), { unk: 2, nsample: 0.5 });
  assert.throws(() => parseStrategies('unk,shuffle'), /unknown strategy "shuffle"/);
  assert.throws(() => parseStrategies('unk=x'), UserError);
  assert.throws(() => parseStrategies('unk,unk=2'), /twice/);
});

test('HashSet64 reports duplicates and keeps every entry across growth', () => {
  const set = new HashSet64(16);
  for (let i = 0; i < 20000; i++) assert.equal(set.add(`line ${i}`), true);
  for (let i = 0; i < 20000; i++) assert.equal(set.add(`line ${i}`), false);
  assert.equal(set.size, 20000);
  assert.ok(set.has('line 123') && !set.has('line 20000'));
  // 20 000 entries at ≤ 70 % load need 32 768 slots of 8 bytes.
  assert.equal(set.bytes, 32768 * 8);
});

test('segmentation is guessed from the texts and words are joined back the same way', () => {
  const raw = new SegmentationDetector();
  ['这部电影非常好看', '我喜欢 iPhone 手机', '服务态度很差,不会再来'].forEach((t) => raw.observe(t));
  assert.deepEqual(raw.guess(), { segmentation: 'jieba', chinese: true });
  const segmented = new SegmentationDetector();
  ['这部 电影 非常 好看', '服务 态度 很 差', '好'].forEach((t) => segmented.observe(t));
  assert.deepEqual(segmented.guess(), { segmentation: 'spaces', chinese: true });
  const english = new SegmentationDetector();
  ['a fine film', 'so bad'].forEach((t) => english.observe(t));
  assert.deepEqual(english.guess(), { segmentation: 'spaces', chinese: false });
  assert.equal(joinWords(['我', '喜欢', 'iPhone', '15', '手机'], 'jieba'), '我喜欢iPhone 15手机');
  assert.equal(joinWords(['a', 'fine', 'film'], 'spaces'), 'a fine film');
  assert.deepEqual(splitOnSpaces('  a \t b  c '), ['a', 'b', 'c']);
  assert.deepEqual(splitOnSpaces('   '), []);
});
