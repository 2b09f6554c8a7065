/**
 * The CRF decoder of an exported sequence labeller, in plain JS: the graph gives each token's tag scores
 * ("emissions") and the CRF's parameters as outputs, and this finds the best tag path, exactly as
 * CRF.decode (src/tasks/crf.ts) does in libtorch:
 *
 *   score(y) = start[y₀] + Σₜ emissions[t, yₜ] + Σ_{t≥1} transitions[yₜ₋₁, yₜ] + end[y_{n−1}]
 *
 * maximised by the Viterbi recursion δₜ[j] = maxᵢ(δₜ₋₁[i] + transitions[i, j]) + emissions[t, j], with
 * δ₀ = start + emissions[0], then backtracking from argmax(δ_{n−1} + end). Moves a tag scheme forbids
 * (BIO: O → I-X) get −10000 added, as in CRF.decode; start and end constraints apply only where the row
 * begins / ends its sentence (a window of a long sentence may open or close inside an entity).
 *
 * Sums are rounded to float32 at each step as libtorch computes them, so near-ties break the same way.
 * Ties go to the lowest tag id (torch's max returns the first maximum).
 */

/** The CRF's parameters, row-major: transitions [K, K] (row = previous tag), start [K], end [K]. */
export interface CrfParams {
  numTags: number;
  transitions: Float32Array;
  start: Float32Array;
  end: Float32Array;
}

/** Allowed moves (true = allowed), as tag-scheme.ts `schemeConstraints` gives them. */
export interface DecodeConstraints {
  transitions: boolean[][];
  start: boolean[];
  end: boolean[];
}

/** Added to a forbidden move's score (CRF.decode's FORBIDDEN). */
export const FORBIDDEN = -10000;

const f32 = Math.fround;

/**
 * The best tag ids for one row of `length` tokens. `emissions(t, j)` is token t's score for tag j;
 * `bounds` says whether the row begins / ends its sentence.
 */
export function viterbi(
  emissions: (t: number, tag: number) => number,
  length: number,
  crf: CrfParams,
  constraints?: DecodeConstraints,
  bounds: { start: boolean; end: boolean } = { start: true, end: true },
): number[] {
  const k = crf.numTags;
  if (length === 0) return [];
  const penalty = (allowed: boolean | undefined) => (constraints && allowed === false ? FORBIDDEN : 0);
  // Penalised parameters, float32 like the tensors CRF.decode adds them into.
  const trans = new Float32Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++)
      trans[i * k + j] = f32(crf.transitions[i * k + j] + penalty(constraints?.transitions[i][j]));
  const startScore = (j: number) => f32(crf.start[j] + (bounds.start ? penalty(constraints?.start[j]) : 0));
  const endScore = (j: number) => f32(crf.end[j] + (bounds.end ? penalty(constraints?.end[j]) : 0));

  let score = Float32Array.from({ length: k }, (_, j) => f32(emissions(0, j) + startScore(j)));
  const back: Int32Array[] = [];
  for (let t = 1; t < length; t++) {
    const next = new Float32Array(k);
    const from = new Int32Array(k);
    for (let j = 0; j < k; j++) {
      let best = -Infinity;
      let arg = 0;
      for (let i = 0; i < k; i++) {
        const v = f32(score[i] + trans[i * k + j]);
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      next[j] = f32(best + emissions(t, j));
      from[j] = arg;
    }
    back.push(from);
    score = next;
  }
  let last = 0;
  let bestFinal = -Infinity;
  for (let j = 0; j < k; j++) {
    const v = f32(score[j] + endScore(j));
    if (v > bestFinal) {
      bestFinal = v;
      last = j;
    }
  }
  const path = new Array<number>(length);
  path[length - 1] = last;
  for (let t = length - 1; t > 0; t--) path[t - 1] = back[t - 1][path[t]];
  return path;
}
