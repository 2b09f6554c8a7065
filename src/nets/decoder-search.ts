/**
 * Choosing output tokens from a model's next-token distributions: beam search (greedy is beam size 1)
 * and sampling with temperature and top-k. The search is plain TypeScript over a callback that scores
 * prefixes, so it serves any decoder (Transformer, RNN) and can be checked against a hand-made table.
 */
import type { Rng } from '../util/rng.js';

export interface BeamSearchOptions {
  beamSize: number;
  /** Most tokens generated per hypothesis, the end token included. */
  maxLength: number;
  /** score = logProb / length^lengthPenalty, length counting the end token (0: raw log-probability). */
  lengthPenalty: number;
  /** The token every prefix starts with, and the one that ends a hypothesis. */
  bos: number;
  eos: number;
}

/** One prefix to extend: which source it belongs to and the tokens so far (starting with bos). */
export interface SearchRow {
  source: number;
  prefix: number[];
}

/** The k most likely next tokens of one row, best first, with their log-probabilities. */
export interface TopTokens {
  tokens: number[];
  logProbs: number[];
}

/** Scores every row at once (one batched model call); all prefixes of a call have the same length. */
export type NextTokens = (rows: SearchRow[], k: number) => TopTokens[];

export interface Hypothesis {
  /** Generated tokens, without bos and the end token. */
  tokens: number[];
  /** Sum of the log-probabilities of the generated tokens (the end token included when it ended). */
  logProb: number;
  /** logProb normalised by length, what hypotheses are ranked by. */
  score: number;
  /** False when it was cut at maxLength rather than ended by eos. */
  ended: boolean;
}

interface Beam {
  prefix: number[];
  logProb: number;
}

export function lengthNormalised(logProb: number, length: number, penalty: number): number {
  return penalty === 0 ? logProb : logProb / Math.max(1, length) ** penalty;
}

/**
 * Beam search for `numSources` inputs in lockstep. Each step expands every live beam by its top
 * beamSize + 1 tokens (enough to keep beamSize live beams even when one candidate is the end token),
 * ranks all candidates of a source by log-probability, and walks down that ranking: an end token ranked
 * within the first beamSize candidates completes a hypothesis, other tokens fill the live beams up to
 * beamSize. A source is done once it has beamSize completed hypotheses or reaches maxLength (live beams
 * are then completed as cut). Results are ranked by length-normalised score, best first.
 */
export function beamSearch(numSources: number, next: NextTokens, o: BeamSearchOptions): Hypothesis[][] {
  if (o.beamSize < 1) throw new Error('beam size must be at least 1');
  const alive: Beam[][] = Array.from({ length: numSources }, () => [{ prefix: [o.bos], logProb: 0 }]);
  const finished: Hypothesis[][] = Array.from({ length: numSources }, () => []);
  const done = new Array<boolean>(numSources).fill(numSources === 0);

  for (let step = 1; step <= o.maxLength && done.some((d) => !d); step++) {
    const rows: SearchRow[] = [];
    const owners: { source: number; beam: Beam }[] = [];
    alive.forEach((beams, source) => {
      if (done[source]) return;
      for (const beam of beams) {
        rows.push({ source, prefix: beam.prefix });
        owners.push({ source, beam });
      }
    });
    const tops = next(rows, o.beamSize + 1);
    const candidates = new Map<number, { beam: Beam; token: number; logProb: number; order: number }[]>();
    tops.forEach((top, r) => {
      const { source, beam } = owners[r];
      const list = candidates.get(source) ?? [];
      top.tokens.forEach((token, j) =>
        list.push({ beam, token, logProb: beam.logProb + top.logProbs[j], order: list.length }),
      );
      candidates.set(source, list);
    });
    for (const [source, list] of candidates) {
      // Ties keep the order the beams and their tokens came in, so results are deterministic.
      list.sort((a, b) => b.logProb - a.logProb || a.order - b.order);
      const nextBeams: Beam[] = [];
      for (let rank = 0; rank < list.length && nextBeams.length < o.beamSize; rank++) {
        const c = list[rank];
        if (c.token === o.eos) {
          if (rank < o.beamSize) finished[source].push(complete(c.beam.prefix, c.logProb, true, o));
        } else {
          nextBeams.push({ prefix: [...c.beam.prefix, c.token], logProb: c.logProb });
        }
      }
      alive[source] = nextBeams;
      if (finished[source].length >= o.beamSize || nextBeams.length === 0) done[source] = true;
      else if (step === o.maxLength) {
        for (const b of nextBeams) finished[source].push(complete(b.prefix, b.logProb, false, o));
        done[source] = true;
      }
    }
  }
  return finished.map((hyps) =>
    hyps
      .map((h, i) => ({ h, i }))
      .sort((a, b) => b.h.score - a.h.score || a.i - b.i)
      .slice(0, o.beamSize)
      .map(({ h }) => h),
  );
}

function complete(prefix: number[], logProb: number, ended: boolean, o: BeamSearchOptions): Hypothesis {
  const tokens = prefix.slice(1);
  const length = tokens.length + (ended ? 1 : 0);
  return { tokens, logProb, score: lengthNormalised(logProb, length, o.lengthPenalty), ended };
}

export interface SamplingOptions {
  /** Logits are divided by it: < 1 sharpens the distribution, > 1 flattens it. */
  temperature: number;
  /** Sample among the k most likely tokens only (0: all). */
  topK: number;
}

/**
 * Draws a token from logits with temperature and top-k; `banned` ids (padding, specials) are never
 * drawn. Uses the caller's seeded Rng, so a generation is reproducible.
 */
export function sampleToken(
  logits: ArrayLike<number>,
  o: SamplingOptions,
  rng: Rng,
  banned: ReadonlySet<number> = new Set(),
): number {
  let ids = Array.from({ length: logits.length }, (_, i) => i).filter((i) => !banned.has(i));
  if (o.topK > 0 && o.topK < ids.length) {
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
    ids = ids.slice(0, o.topK);
  }
  const scaled = ids.map((i) => logits[i] / o.temperature);
  const max = Math.max(...scaled);
  const weights = scaled.map((v) => Math.exp(v - max));
  const total = weights.reduce((s, w) => s + w, 0);
  let u = rng.next() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}
