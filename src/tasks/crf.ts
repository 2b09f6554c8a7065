/**
 * A linear-chain conditional random field over per-token tag scores ("emissions"), batched and masked.
 *
 * The score of a tag path y for one sequence of length n is
 *   start[y0] + Σ_t emissions[t, y_t] + Σ_{t≥1} transitions[y_{t−1}, y_t] + end[y_{n−1}],
 * and p(y | x) = exp(score(y)) / Z with Z the sum over every path (the forward algorithm, a log-sum-exp
 * recursion over time). Decoding is Viterbi: the same recursion with max instead of log-sum-exp, plus
 * backpointers.
 *
 * Masks are prefixes: mask[b, t] is true for t < length[b] and every length is at least 1. Padded
 * steps leave the recursion state unchanged, so the end transition applies to each sequence's real last
 * tag.
 *
 * Parameter names follow pytorch-crf: `transitions` [K, K] (row = previous tag, column = next tag),
 * `start_transitions` [K], `end_transitions` [K].
 */
import { stack, tensor, where, zeros } from '../engine/create.js';
import { Module } from '../engine/nn/module.js';
import { noGrad, tidy } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';

/** Which moves a decoded path may make (true = allowed); e.g. BIO forbids O → I-LOC. */
export interface CrfConstraints {
  /** transitions[i][j]: may tag j follow tag i. */
  transitions: boolean[][];
  start: boolean[];
  end: boolean[];
}

/** Added to the score of a forbidden move when decoding: no real path score comes near it. */
const FORBIDDEN = -10000;

export class CRF extends Module {
  readonly transitions: Tensor;
  readonly startTransitions: Tensor;
  readonly endTransitions: Tensor;
  private readonly constraints?: CrfConstraints;

  /**
   * `constraints` only shape decoding. Training stays unconstrained so a training file with an
   * ill-formed sequence (an I- after O, common in converted corpora) costs an ordinary loss rather than
   * a path scored 10,000 below the others; a trained CRF gives such moves low scores anyway.
   */
  constructor(
    readonly numTags: number,
    constraints?: CrfConstraints,
  ) {
    super();
    if (!Number.isInteger(numTags) || numTags < 1) throw new RangeError(`CRF: numTags ${numTags}`);
    // pytorch-crf's initialisation: uniform in [−0.1, 0.1].
    const init = (shape: number[]) => zeros(shape).uniform_(-0.1, 0.1);
    this.transitions = this.param('transitions', init([numTags, numTags]));
    this.startTransitions = this.param('start_transitions', init([numTags]));
    this.endTransitions = this.param('end_transitions', init([numTags]));
    if (constraints) checkConstraints(constraints, numTags);
    this.constraints = constraints;
  }

  /** log p(tags | emissions) of each sequence, [B]. emissions [B, T, K], tags int64 [B, T], mask bool [B, T]. */
  logLikelihood(emissions: Tensor, tags: Tensor, mask: Tensor): Tensor {
    return this.pathScore(emissions, tags, mask).sub(this.logPartition(emissions, mask));
  }

  /** The unnormalised score of the given tag paths, [B]. Tags at masked steps are ignored (any value). */
  pathScore(emissions: Tensor, tags: Tensor, mask: Tensor): Tensor {
    const [batch, time, k] = emissions.shape;
    const real = mask.float();
    const safeTags = tags.maskedFill(mask.logicalNot(), 0);
    let score = emissions.gather(2, safeTags.unsqueeze(2)).squeeze(2).mul(real).sum(1);
    score = score.add(this.startTransitions.indexSelect(0, safeTags.select(1, 0)));
    if (time > 1) {
      // transitions[prev, next] read from the flattened matrix at prev·K + next.
      const pairs = safeTags
        .slice(1, 0, time - 1)
        .mul(k)
        .add(safeTags.slice(1, 1, time));
      const moves = this.transitions
        .reshape(k * k)
        .indexSelect(0, pairs.reshape(batch * (time - 1)))
        .reshape(batch, time - 1);
      score = score.add(moves.mul(real.slice(1, 1, time)).sum(1));
    }
    const lastIndex = mask.long().sum(1).sub(1).unsqueeze(1);
    const lastTags = safeTags.gather(1, lastIndex).squeeze(1);
    return score.add(this.endTransitions.indexSelect(0, lastTags));
  }

  /** log Z, the log-sum-exp of the scores of every tag path, [B] (the forward algorithm). */
  logPartition(emissions: Tensor, mask: Tensor): Tensor {
    const time = emissions.size(1);
    let alpha = emissions.select(1, 0).add(this.startTransitions.unsqueeze(0)); // [B, K]
    // log Σ_i exp(alpha_i + T_ij) = m + s + log Σ_i exp(alpha_i − m) · exp(T_ij − s): a [B, K]·[K, K]
    // matrix product instead of a log-sum-exp over a [B, K, K] tensor, K times less exp/log work. The
    // shifts m (per row) and s keep every exponent ≤ 0, and the best previous tag contributes
    // exp(T_ij − s), so a sum only underflows if the transitions spread over ~80 nats; the floor keeps
    // even that finite.
    const shift = this.transitions.max().detach();
    const expTransitions = this.transitions.sub(shift).exp();
    for (let t = 1; t < time; t++) {
      const top = alpha.maxDim(1, true).values.detach(); // [B, 1]
      const next = alpha
        .sub(top)
        .exp()
        .matmul(expTransitions)
        .clamp(1e-30)
        .log()
        .add(top)
        .add(shift)
        .add(emissions.select(1, t));
      alpha = where(mask.select(1, t).unsqueeze(1), next, alpha);
    }
    return alpha.add(this.endTransitions.unsqueeze(0)).logsumexp(1);
  }

  /**
   * The best tag path of each sequence (Viterbi), as many tags as the sequence is long. `bounds` says
   * per sequence whether the start and end constraints apply (default: yes); a window cut from the middle
   * of a longer sentence may begin or end inside an entity.
   */
  decode(emissions: Tensor, mask: Tensor, bounds?: { start: boolean[]; end: boolean[] }): number[][] {
    const [batch, time, k] = emissions.shape;
    const { final, backpointers, lengths } = noGrad(() =>
      tidy(() => {
        const [transitions, start, end] = this.decodingScores(batch, bounds);
        let score = emissions.select(1, 0).add(start); // [B, K]
        const pointers: Tensor[] = [];
        for (let t = 1; t < time; t++) {
          const best = score.unsqueeze(2).add(transitions.unsqueeze(0)).maxDim(1); // over the previous tag
          pointers.push(best.indices);
          score = where(mask.select(1, t).unsqueeze(1), best.values.add(emissions.select(1, t)), score);
        }
        return {
          final: score.add(end).toFloat32Array(),
          backpointers: pointers.length ? stack(pointers, 1).toInt64Array() : new BigInt64Array(0),
          lengths: mask.long().sum(1).toArray(),
        };
      }),
    );
    return lengths.map((length, b) => {
      const path = new Array<number>(length);
      path[length - 1] = argmax(final, b * k, k);
      // backpointers [B, T−1, K]: entry t−1 holds the best previous tag for each tag at step t.
      for (let t = length - 1; t > 0; t--) {
        path[t - 1] = Number(backpointers[(b * (time - 1) + (t - 1)) * k + path[t]]);
      }
      return path;
    });
  }

  /**
   * Transition [K, K], start [B, K] and end [B, K] scores with the constraints' forbidden moves pushed
   * out of reach (start and end only for the sequences `bounds` marks).
   */
  private decodingScores(
    batch: number,
    bounds?: { start: boolean[]; end: boolean[] },
  ): [Tensor, Tensor, Tensor] {
    const c = this.constraints;
    const k = this.numTags;
    const perRow = (scores: Tensor) => scores.unsqueeze(0).expand(batch, k);
    if (!c) return [this.transitions, perRow(this.startTransitions), perRow(this.endTransitions)];
    const penalty = (allowed: boolean[]) => allowed.map((a) => (a ? 0 : FORBIDDEN));
    const rowPenalty = (allowed: boolean[], applies: boolean[] | undefined) =>
      tensor(
        Array.from({ length: batch }, (_, b) =>
          applies?.[b] === false ? new Array<number>(k).fill(0) : penalty(allowed),
        ).flat(),
        [batch, k],
      );
    return [
      this.transitions.add(tensor(penalty(c.transitions.flat()), [k, k])),
      this.startTransitions.unsqueeze(0).add(rowPenalty(c.start, bounds?.start)),
      this.endTransitions.unsqueeze(0).add(rowPenalty(c.end, bounds?.end)),
    ];
  }
}

function argmax(values: Float32Array, offset: number, count: number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

function checkConstraints(c: CrfConstraints, k: number): void {
  const ok =
    c.start.length === k &&
    c.end.length === k &&
    c.transitions.length === k &&
    c.transitions.every((row) => row.length === k);
  if (!ok) throw new RangeError(`CRF: constraints must be ${k}×${k} transitions and ${k} start/end flags`);
}
