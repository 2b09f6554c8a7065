import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkReport, extractChunks, tokenAccuracy } from '../../src/metrics/index.js';
import { UserError } from '../../src/util/errors.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

test('the conlleval example: one of two entities right → P = R = F1 = 0.5', () => {
  const r = chunkReport([['B-PER', 'I-PER', 'O', 'B-LOC']], [['B-PER', 'I-PER', 'O', 'B-ORG']], 'BIO');
  assert.equal(r.goldChunks, 2);
  assert.equal(r.predictedChunks, 2);
  assert.equal(r.correctChunks, 1);
  close(r.micro.precision, 0.5);
  close(r.micro.recall, 0.5);
  close(r.micro.f1, 0.5);
  close(r.tokenAccuracy, 3 / 4);
});

test('BIO extraction, with IOB1-style I- starts and type changes as conlleval reads them', () => {
  assert.deepEqual(extractChunks(['B-PER', 'I-PER', 'O', 'B-LOC'], 'BIO'), [
    { type: 'PER', start: 0, end: 2 },
    { type: 'LOC', start: 3, end: 4 },
  ]);
  assert.deepEqual(extractChunks(['I-PER', 'I-PER', 'O', 'I-LOC', 'I-LOC', 'B-LOC'], 'BIO'), [
    { type: 'PER', start: 0, end: 2 },
    { type: 'LOC', start: 3, end: 5 },
    { type: 'LOC', start: 5, end: 6 },
  ]);
  assert.deepEqual(extractChunks(['B-PER', 'I-LOC'], 'BIO'), [
    { type: 'PER', start: 0, end: 1 },
    { type: 'LOC', start: 1, end: 2 },
  ]);
  assert.deepEqual(extractChunks(['O', 'O'], 'BIO'), []);
  assert.deepEqual(extractChunks([], 'BIO'), []);
  // Types may contain hyphens: split at the first one only.
  assert.deepEqual(extractChunks(['B-GPE-CITY'], 'BIO'), [{ type: 'GPE-CITY', start: 0, end: 1 }]);
});

test('BIOES extraction, including BMES spelling and malformed sequences', () => {
  assert.deepEqual(extractChunks(['B-PER', 'E-PER', 'S-LOC', 'O', 'B-ORG', 'I-ORG', 'E-ORG'], 'BIOES'), [
    { type: 'PER', start: 0, end: 2 },
    { type: 'LOC', start: 2, end: 3 },
    { type: 'ORG', start: 4, end: 7 },
  ]);
  assert.deepEqual(extractChunks(['B-LOC', 'M-LOC', 'E-LOC'], 'BIOES'), [{ type: 'LOC', start: 0, end: 3 }]);
  assert.deepEqual(extractChunks(['B-PER', 'I-PER', 'O'], 'BIOES'), [{ type: 'PER', start: 0, end: 2 }]);
  assert.deepEqual(extractChunks(['E-PER'], 'BIOES'), [{ type: 'PER', start: 0, end: 1 }]);
  assert.deepEqual(extractChunks(['S-PER', 'I-PER'], 'BIOES'), [
    { type: 'PER', start: 0, end: 1 },
    { type: 'PER', start: 1, end: 2 },
  ]);
  // Untyped tags, as in Chinese word segmentation: 北京 / 是 → B E S
  assert.deepEqual(extractChunks(['B', 'E', 'S'], 'BIOES'), [
    { type: '', start: 0, end: 2 },
    { type: '', start: 2, end: 3 },
  ]);
  assert.deepEqual(extractChunks(['S-PER', 'S-PER'], 'BIOES'), [
    { type: 'PER', start: 0, end: 1 },
    { type: 'PER', start: 1, end: 2 },
  ]);
});

test('tags outside the scheme are errors, not silently O', () => {
  assert.throws(() => extractChunks(['E-PER'], 'BIO'), UserError);
  assert.throws(() => extractChunks(['O', 'X-PER'], 'BIOES'), /position 1/);
  assert.throws(() => extractChunks(['PER'], 'BIO'), UserError);
  assert.throws(() => extractChunks(['M'], 'BIO'), UserError);
});

test('per-type, micro and macro entity scores over several sentences', () => {
  const gold = [
    ['B-PER', 'I-PER', 'O', 'B-LOC'],
    ['B-ORG', 'O'],
  ];
  const pred = [
    ['B-PER', 'I-PER', 'O', 'B-ORG'],
    ['B-ORG', 'O'],
  ];
  const r = chunkReport(gold, pred, 'BIO');
  // Gold: PER, LOC, ORG; predicted: PER, ORG (wrong span), ORG (right) → 2 of 3 correct each way
  close(r.micro.precision, 2 / 3);
  close(r.micro.recall, 2 / 3);
  close(r.micro.f1, 2 / 3);
  // LOC: 0 correct of 0 predicted, 1 gold → 0; ORG: 1 of 2 predicted, 1 gold → P .5, R 1, F1 2/3; PER: 1
  assert.deepEqual(
    r.perType.map((t) => [t.type, t.support, t.predicted]),
    [
      ['LOC', 1, 0],
      ['ORG', 1, 2],
      ['PER', 1, 1],
    ],
  );
  close(r.perType[1].f1, 2 / 3);
  close(r.macro.precision, 0.5); // (0 + .5 + 1)/3
  close(r.macro.recall, 2 / 3); // (0 + 1 + 1)/3
  close(r.macro.f1, 5 / 9); // (0 + 2/3 + 1)/3
  close(r.tokenAccuracy, 5 / 6);
});

test('no entities anywhere gives zeros, and lengths must match', () => {
  const r = chunkReport([['O']], [['O']], 'BIO');
  assert.equal(r.micro.f1, 0);
  assert.equal(r.macro.f1, 0);
  assert.equal(r.tokenAccuracy, 1);
  assert.equal(tokenAccuracy([], []), 0);
  assert.throws(() => tokenAccuracy([['O', 'O']], [['O']]), /sentence 0/);
});
