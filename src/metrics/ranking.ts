/**
 * Ranking metrics for retrieval and matching: mean reciprocal rank and NDCG@k, from one list of
 * (model score, graded relevance) items per query. Relevance is a non-negative grade; > 0 is relevant.
 *
 * Ties in the model's score are resolved by expectation over all orders of the tied items (McSherry &
 * Najork, ECIR 2008), never by input order: otherwise a model that scores everything equal would get a
 * perfect result on data that happens to list relevant items first.
 * A query with no relevant item scores 0 on both metrics (zero-division convention, as scikit-learn).
 */
import { UserError } from '../util/errors.js';
import { checkFinite, safeDivide } from './common.js';

export interface RankedItem {
  score: number;
  relevance: number;
}

/** 'exponential' gain 2^rel − 1 (Burges et al.; LightGBM, XGBoost, LETOR) or 'linear' gain rel. */
export type NdcgGain = 'exponential' | 'linear';

/** Groups of equal score, highest score first, with the start position (0-based) of each group. */
function tieGroups(items: readonly RankedItem[]): { start: number; relevances: number[] }[] {
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const groups: { start: number; relevances: number[] }[] = [];
  sorted.forEach((item, i) => {
    const last = groups[groups.length - 1];
    if (last && sorted[i - 1].score === item.score) last.relevances.push(item.relevance);
    else groups.push({ start: i, relevances: [item.relevance] });
  });
  return groups;
}

function checkQuery(items: readonly RankedItem[], where: string): void {
  checkFinite(
    `ranking: ${where} scores`,
    items.map((it) => it.score),
  );
  items.forEach((it, i) => {
    if (!Number.isFinite(it.relevance) || it.relevance < 0) {
      throw new UserError(`ranking: ${where}: item ${i}: relevance ${it.relevance} is not a grade >= 0`);
    }
  });
}

function checkCutoff(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new UserError(`NDCG@k: k must be a whole number >= 1, got ${k}`);
}

function checkQueries(queries: readonly (readonly RankedItem[])[]): void {
  queries.forEach((items, q) => checkQuery(items, `query ${q}`));
}

/**
 * Expected reciprocal rank of the first relevant item. In a tie group of m items at positions
 * s+1..s+m holding r relevant ones, the first relevant one is at s+j with probability
 * C(m−j, r−1) / C(m, r), computed as a running product below.
 */
export function reciprocalRank(items: readonly RankedItem[]): number {
  checkQuery(items, 'query');
  return expectedReciprocalRank(items);
}

function expectedReciprocalRank(items: readonly RankedItem[]): number {
  for (const { start, relevances } of tieGroups(items)) {
    const m = relevances.length;
    const r = relevances.filter((v) => v > 0).length;
    if (r === 0) continue;
    let expected = 0;
    let noneYet = 1; // probability that positions 1..j−1 of the group hold no relevant item
    for (let j = 1; j <= m - r + 1; j++) {
      const left = m - j + 1; // items not yet placed
      expected += (noneYet * (r / left)) / (start + j);
      noneYet *= (left - r) / left;
    }
    return expected;
  }
  return 0;
}

function gainOf(relevance: number, gain: NdcgGain): number {
  return gain === 'exponential' ? 2 ** relevance - 1 : relevance;
}

/** Σ over positions p (1-based, p ≤ k) of gain / log2(p + 1); tied items share their average gain. */
function dcg(groups: { start: number; relevances: number[] }[], k: number, gain: NdcgGain): number {
  let total = 0;
  for (const { start, relevances } of groups) {
    if (start >= k) break;
    const meanGain = relevances.reduce((s, r) => s + gainOf(r, gain), 0) / relevances.length;
    for (let p = start + 1; p <= Math.min(start + relevances.length, k); p++)
      total += meanGain / Math.log2(p + 1);
  }
  return total;
}

/** NDCG@k of one query (k defaults to the whole list): DCG@k of the model's order over the ideal DCG@k. */
export function ndcg(items: readonly RankedItem[], k?: number, gain: NdcgGain = 'exponential'): number {
  checkQuery(items, 'query');
  if (k !== undefined) checkCutoff(k);
  return ndcgOf(items, k ?? items.length, gain);
}

function ndcgOf(items: readonly RankedItem[], k: number, gain: NdcgGain): number {
  const ideal = [...items]
    .sort((a, b) => b.relevance - a.relevance)
    .map((it, i) => ({ start: i, relevances: [it.relevance] }));
  return safeDivide(dcg(tieGroups(items), k, gain), dcg(ideal, k, gain));
}

/** Mean reciprocal rank over queries (0 for no queries). */
export function meanReciprocalRank(queries: readonly (readonly RankedItem[])[]): number {
  checkQueries(queries);
  return safeDivide(
    queries.reduce((s, q) => s + expectedReciprocalRank(q), 0),
    queries.length,
  );
}

/** Mean NDCG@k over queries (0 for no queries). */
export function meanNdcg(
  queries: readonly (readonly RankedItem[])[],
  k?: number,
  gain: NdcgGain = 'exponential',
): number {
  if (k !== undefined) checkCutoff(k);
  checkQueries(queries);
  return safeDivide(
    queries.reduce((s, q) => s + ndcgOf(q, k ?? q.length, gain), 0),
    queries.length,
  );
}

export interface RankingReport {
  mrr: number;
  /** NDCG at each requested cut-off, keyed by k. */
  ndcg: Record<number, number>;
}

export function rankingReport(
  queries: readonly (readonly RankedItem[])[],
  ks: readonly number[] = [1, 3, 5, 10],
  gain: NdcgGain = 'exponential',
): RankingReport {
  const byK: Record<number, number> = {};
  for (const k of ks) byK[k] = meanNdcg(queries, k, gain);
  return { mrr: meanReciprocalRank(queries), ndcg: byK };
}
