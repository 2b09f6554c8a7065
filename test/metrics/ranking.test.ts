import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanNdcg, meanReciprocalRank, ndcg, rankingReport, reciprocalRank } from '../../src/metrics/index.js';
import { UserError } from '../../src/util/errors.js';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `${actual} is not within ${eps} of ${expected}`);

const items = (scores: number[], relevance: number[]) =>
  scores.map((score, i) => ({ score, relevance: relevance[i] }));

test('MRR: first relevant at rank 2, at rank 1, and none', () => {
  const queries = [items([0.9, 0.8, 0.7], [0, 1, 0]), items([0.4, 0.5], [0, 1]), items([0.3, 0.2], [0, 0])];
  close(meanReciprocalRank(queries), (1 / 2 + 1 + 0) / 3);
  assert.equal(meanReciprocalRank([]), 0);
});

test('MRR with ties takes the expectation over tied orders', () => {
  // One relevant among three tied at the top: ranks 1, 2, 3 equally likely → (1 + 1/2 + 1/3)/3 = 11/18
  close(reciprocalRank(items([0.5, 0.5, 0.5, 0.1], [0, 1, 0, 0])), 11 / 18);
  // Two relevant among three tied: first relevant at rank 1 w.p. 2/3, rank 2 w.p. 1/3 → 2/3 + 1/6
  close(reciprocalRank(items([1, 1, 1], [1, 0, 2])), 5 / 6);
  // A tied group below a non-relevant item: ranks 2 or 3 → (1/2 + 1/3)/2
  close(reciprocalRank(items([9, 1, 1], [0, 1, 0])), 5 / 12);
});

test('NDCG with graded relevance and log2 discount', () => {
  const q = items([3, 2, 1], [1, 2, 0]);
  // exponential gains 2^rel − 1 = [1, 3, 0]: DCG = 1/log2(2) + 3/log2(3) = 1 + 1.892789
  // ideal order [3, 1, 0]: IDCG = 3 + 1/log2(3) = 3.630930 → 0.796703
  close(ndcg(q), (1 + 3 / Math.log2(3)) / (3 + 1 / Math.log2(3)));
  // linear gains: (1 + 2/log2 3) / (2 + 1/log2 3) = 2.261860 / 2.630930
  close(ndcg(q, 3, 'linear'), (1 + 2 / Math.log2(3)) / (2 + 1 / Math.log2(3)));
  close(ndcg(q, 1), 1 / 3); // DCG@1 = 1, IDCG@1 = 3
  close(ndcg(items([1, 2, 3], [0, 0, 1])), 1);
  // Tie: gains 1 and 0 share positions 1–2 → 0.5·(1 + 1/log2 3); ideal = 1
  close(ndcg(items([1, 1], [1, 0])), 0.5 * (1 + 1 / Math.log2(3)));
  assert.equal(ndcg(items([1, 2], [0, 0])), 0); // no relevant item
  assert.equal(ndcg([]), 0);
});

test('ranking report and bad input', () => {
  const queries = [items([3, 2, 1], [1, 2, 0]), items([1, 2], [0, 1])];
  const r = rankingReport(queries, [1, 3]);
  close(r.mrr, 1);
  close(r.ndcg[1], (1 / 3 + 1) / 2);
  close(r.ndcg[3], meanNdcg(queries, 3));
  assert.throws(() => meanNdcg(queries, 0), UserError);
  assert.throws(() => ndcg(queries[0], 1.5), UserError);
  assert.throws(() => meanReciprocalRank([items([Number.NaN], [1])]), /query 0/);
  assert.throws(() => meanReciprocalRank([items([1], [-1])]), /relevance -1/);
});
