import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bleuTokens,
  corpusBleu,
  corpusRougeL,
  lcsLength,
  perplexity,
  rougeL,
  sentenceBleu,
} from '../../src/metrics/index.js';
import { UserError } from '../../src/util/errors.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

const hyps = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const refs1 = ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'];
const refs2 = ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'];

test("sacreBLEU README example: 48.53 with the README's two reference sets", () => {
  const r = corpusBleu(hyps, [refs1, refs2]);
  assert.equal(r.score.toFixed(2), '48.53');
  assert.deepEqual(r.counts, [14, 7, 5, 3]);
  assert.deepEqual(r.totals, [17, 14, 11, 8]);
  // closest reference lengths 6, 5, 7 → 18 > 17 → BP = exp(1 − 18/17)
  assert.equal(r.refLen, 18);
  close(r.brevityPenalty, Math.exp(1 - 18 / 17));
});

test('corpus BLEU with the first reference set only, by hand', () => {
  // Tokens (13a): "The dog bit the man ." = ref → 6/6 uni, 5/5 bi, 4/4 tri, 3/3 four-grams.
  // "It wasn't surprising ." vs "It was not unexpected ." → uni It, "." = 2/4; no longer match (0/3, 0/2, 0/1).
  // "The man had just bitten him ." vs "The man bit him first ." → uni The man him . = 4/7; bi "The man" 1/6; 0/5; 0/4.
  // Totals 12/17, 6/14, 4/11, 3/8; lengths 17 vs 6 + 5 + 6 = 17 → BP 1.
  const r = corpusBleu(hyps, [refs1]);
  assert.deepEqual(r.counts, [12, 6, 4, 3]);
  assert.deepEqual(r.totals, [17, 14, 11, 8]);
  close(r.score, 100 * Math.pow((12 / 17) * (6 / 14) * (4 / 11) * (3 / 8), 1 / 4)); // 45.07
  assert.equal(r.score.toFixed(2), '45.07');
});

test('13a and zh tokenizers match sacreBLEU', () => {
  assert.deepEqual(bleuTokens('Hello, world! 3.5-4 a&amp;b "x"', '13a'), [
    'Hello',
    ',',
    'world',
    '!',
    '3.5',
    '-',
    '4',
    'a',
    '&',
    'b',
    '"',
    'x',
    '"',
  ]);
  assert.deepEqual(bleuTokens("It wasn't 1,000.", '13a'), ['It', "wasn't", '1,000', '.']);
  assert.deepEqual(bleuTokens('我爱北京。“好”…ok, 1,000', 'zh'), [
    '我',
    '爱',
    '北',
    '京',
    '。',
    '“',
    '好',
    '”',
    '…',
    'ok',
    ',',
    '1,000',
  ]);
  assert.deepEqual(bleuTokens('  a   b ', 'none'), ['a', 'b']);
  assert.deepEqual(bleuTokens('', '13a'), []);
});

test('Chinese needs the zh tokenizer: one 13a token has no 4-grams', () => {
  close(corpusBleu(['我爱北京天安门'], [['我爱北京天安门']], { tokenize: 'zh' }).score, 100, 1e-9);
  assert.ok(corpusBleu(['我爱北京天安门'], [['我爱北京天安门']]).score < 1e-6);
});

test('smoothing: exp (default), none and floor when one n-gram order has no match', () => {
  // "a b c d e" vs "a b c x e": uni 4/5, bi (a b, b c) 2/4, tri (a b c) 1/3, four-grams 0/2.
  const h = ['a b c d e'];
  const r = [['a b c x e']];
  // exp: the first zero order gets 1/(2·2) → (0.8 · 0.5 · 1/3 · 0.25)^(1/4)
  close(corpusBleu(h, r).score, 100 * Math.pow(0.8 * 0.5 * (1 / 3) * 0.25, 0.25));
  assert.ok(corpusBleu(h, r, { smooth: 'none' }).score < 1e-6);
  // floor 0.1: 0.1/2 = 0.05
  close(corpusBleu(h, r, { smooth: 'floor' }).score, 100 * Math.pow(0.8 * 0.5 * (1 / 3) * 0.05, 0.25));
});

test('brevity penalty, effective order, no matches, lowercase', () => {
  // "a b" vs "a b c d": p1 = p2 = 1, no trigrams → 0 with 4 orders, e^(1 − 4/2) with effective order
  assert.ok(corpusBleu(['a b'], [['a b c d']]).score < 1e-6);
  close(corpusBleu(['a b'], [['a b c d']], { effectiveOrder: true }).score, 100 * Math.exp(-1));
  assert.equal(corpusBleu(['x y z w'], [['a b c d']]).score, 0);
  assert.equal(corpusBleu([''], [['a b']]).score, 0);
  close(sentenceBleu('THE CAT SAT', ['the cat sat'], { lowercase: true }).score, 100, 1e-9);
  assert.ok(sentenceBleu('THE CAT SAT', ['the cat sat']).score < 1e-6);
  assert.throws(() => corpusBleu(['a'], [['a', 'b']]), UserError);
  assert.throws(() => corpusBleu(['a'], []), UserError);
});

test('sentence BLEU with add-one smoothing', () => {
  // "the cat sat" vs "the cat sat on the mat": p1 = 3/3, p2 = (2+1)/(2+1), p3 = (1+1)/(1+1),
  // p4 = (0+1)/(0+1); BP = exp(1 − 6/3) → 100/e = 36.79
  close(sentenceBleu('the cat sat', ['the cat sat on the mat']).score, 100 * Math.exp(-1));
  // "the cat sat on a mat" vs "the cat sat on the mat": uni 5/6, bi 3/5 → 4/6, tri 2/4 → 3/5, 4-gram 1/3 → 2/4
  close(
    sentenceBleu('the cat sat on a mat', ['the cat sat on the mat']).score,
    100 * Math.pow((5 / 6) * (4 / 6) * (3 / 5) * (2 / 4), 0.25),
  );
  // The best of two references is used for clipping (max count of each n-gram over references).
  close(sentenceBleu('the cat sat', ['a dog', 'the cat sat']).score, 100, 1e-9);
  assert.equal(sentenceBleu('x y', ['a b']).score, 0);
});

test('ROUGE-L: LCS precision, recall and F', () => {
  assert.equal(lcsLength(['a', 'b', 'c', 'd'], ['a', 'c', 'd', 'b']), 3);
  // LCS "the cat on the mat" = 5 of 6 and 6 tokens
  const s = rougeL('the cat sat on the mat', 'The cat is on the mat.');
  close(s.precision, 5 / 6);
  close(s.recall, 5 / 6);
  close(s.f, 5 / 6);
  // LCS 3: P = 3/3, R = 3/6 → F1 = 2·1·.5/1.5; β = 2: 5·1·.5/(.5 + 4·1) = 2.5/4.5
  close(rougeL('a b c', 'a b c d e f').f, 2 / 3);
  close(rougeL('a b c', 'a b c d e f', { beta: 2 }).f, 2.5 / 4.5);
  // Chinese per character: 我爱北京 vs 我在北京 → LCS 我北京 = 3 of 4
  close(rougeL('我爱北京', '我在北京').f, 0.75);
  // Several references: the best F wins.
  close(rougeL('a b c', ['x y', 'a b c']).f, 1);
  assert.deepEqual(rougeL('', 'a b'), { precision: 0, recall: 0, f: 0 });
  close(corpusRougeL(['a b c', 'x'], ['a b c', 'y']).f, 0.5);
});

test('perplexity is exp(mean NLL)', () => {
  close(perplexity(10 * Math.log(2), 10), 2);
  assert.equal(perplexity(0, 5), 1);
  assert.throws(() => perplexity(1, 0), UserError);
  assert.throws(() => perplexity(Number.NaN, 3), UserError);
});
