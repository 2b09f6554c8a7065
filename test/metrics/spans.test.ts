import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerTokens, exactMatch, spanF1, spanReport } from '../../src/metrics/index.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

test('English normalisation follows SQuAD: lowercase, no punctuation, no articles', () => {
  assert.deepEqual(answerTokens('The Cat, sat!', 'en'), ['cat', 'sat']);
  assert.deepEqual(answerTokens("don't", 'en'), ['dont']); // punctuation removed, not split on
  // "a" inside "théa" is not a whole word (é is a word character, as in Python's Unicode \b)
  assert.deepEqual(answerTokens('an apple a day théa', 'en'), ['apple', 'day', 'théa']);
  assert.deepEqual(answerTokens('  ', 'en'), []);
});

test('English exact match and F1, maximised over gold answers', () => {
  assert.equal(exactMatch('the cat', ['Cat']), 1);
  assert.equal(exactMatch('dont', ["don't"]), 1);
  assert.equal(exactMatch('cat sat', ['cat']), 0);
  // pred [big, cat, sat], gold [cat, sat, down]: 2 common → P = R = 2/3 → F1 2/3
  close(spanF1('a big cat sat', ['the cat sat down']), 2 / 3);
  close(spanF1('a big cat sat', ['dog', 'the cat sat down']), 2 / 3);
  assert.equal(spanF1('dog', ['cat']), 0);
  // repeated tokens count as a multiset: pred [cat, cat], gold [cat] → 1 common → 2·1/(2+1)
  close(spanF1('cat cat', ['cat']), 2 / 3);
});

test('Chinese answers are compared character by character', () => {
  assert.deepEqual(answerTokens('北京，中国 iPhone 12！', 'zh'), ['北', '京', '中', '国', 'iphone', '12']);
  // pred [北, 京, 市], gold [北, 京]: 2 common → 2·2/(3+2) = 0.8
  close(spanF1('北京市', ['北京']), 0.8);
  assert.equal(exactMatch('北京市', ['北京']), 0);
  assert.equal(exactMatch('北京。', ['北京']), 1); // full-width punctuation dropped
  assert.equal(exactMatch('北 京', ['北京']), 1); // whitespace dropped
});

test('unanswerable questions: only an empty prediction scores', () => {
  assert.equal(exactMatch('', []), 1);
  assert.equal(spanF1('', []), 1);
  assert.equal(spanF1('', ['']), 1);
  assert.equal(spanF1('the', []), 1); // normalises to empty
  assert.equal(spanF1('foo', []), 0);
  assert.equal(exactMatch('foo', []), 0);
  assert.equal(spanF1('', ['foo']), 0);
  // An empty gold answer next to a real one is ignored (SQuAD 2.0).
  assert.equal(exactMatch('', ['', 'cat']), 0);
});

test('dataset aggregate, split by answerability', () => {
  const r = spanReport(['the cat', 'big dog', '', 'x'], [['Cat'], ['dog'], [], []]);
  // (EM, F1): (1, 1); [big, dog] vs [dog] → (0, 2/3); unanswerable & empty → (1, 1); unanswerable & 'x' → (0, 0)
  close(r.exactMatch, 0.5);
  close(r.f1, (1 + 2 / 3 + 1 + 0) / 4);
  assert.equal(r.count, 4);
  assert.deepEqual([r.hasAnswer.count, r.noAnswer.count], [2, 2]);
  close(r.hasAnswer.f1, (1 + 2 / 3) / 2);
  close(r.noAnswer.exactMatch, 0.5);
  const empty = spanReport([], []);
  assert.deepEqual([empty.exactMatch, empty.f1, empty.count], [0, 0, 0]);
  assert.throws(() => spanReport(['a'], []), /1 predictions/);
});
