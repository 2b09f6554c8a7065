import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int64, tensor } from '../../src/engine/create.js';
import { noGrad, tidy } from '../../src/engine/scope.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { CRF, type CrfConstraints } from '../../src/tasks/crf.js';

// A tiny case small enough to enumerate: 3 tags, two sequences of lengths 3 and 2 (padded to 3).
const K = 3;
const T = 3;
const LENGTHS = [3, 2];
const EMISSIONS = [
  [
    [0.5, -1.2, 0.3],
    [1.1, 0.4, -0.7],
    [-0.2, 0.9, 0.6],
  ],
  [
    [0.8, 0.1, -0.5],
    [-1.0, 1.3, 0.2],
    [7.0, 7.0, 7.0], // padding: must not count
  ],
];
const TRANSITIONS = [
  [0.2, -0.4, 0.7],
  [-0.3, 0.5, 0.1],
  [0.6, -0.8, -0.2],
];
const START = [0.3, -0.1, 0.4];
const END = [-0.5, 0.2, 0.1];
const GOLD = [
  [0, 2, 1],
  [1, 1, -100], // the padded step holds an ignore value, which must be harmless
];

function makeCrf(constraints?: CrfConstraints): CRF {
  const crf = new CRF(K, constraints);
  crf.loadStateDict(
    new Map([
      ['transitions', tensor(TRANSITIONS.flat(), [K, K])],
      ['start_transitions', tensor(START)],
      ['end_transitions', tensor(END)],
    ]),
  );
  return crf;
}

function inputs(): { emissions: Tensor; tags: Tensor; mask: Tensor } {
  return {
    emissions: tensor(EMISSIONS.flat(2), [2, T, K]),
    tags: int64(GOLD.flat(), [2, T]),
    mask: tensor(
      LENGTHS.flatMap((n) => Array.from({ length: T }, (_, t) => (t < n ? 1 : 0))),
      [2, T],
      'bool',
    ),
  };
}

/** Every tag path of length n. */
function paths(n: number): number[][] {
  if (n === 0) return [[]];
  return paths(n - 1).flatMap((p) => Array.from({ length: K }, (_, k) => [...p, k]));
}

function score(b: number, path: number[]): number {
  let s = START[path[0]] + END[path[path.length - 1]];
  path.forEach((tag, t) => {
    s += EMISSIONS[b][t][tag];
    if (t > 0) s += TRANSITIONS[path[t - 1]][tag];
  });
  return s;
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - m), 0));
}

test('path score and log-likelihood equal brute-force enumeration over all tag paths', () => {
  const crf = makeCrf();
  tidy(() => {
    const { emissions, tags, mask } = inputs();
    const gotScore = crf.pathScore(emissions, tags, mask).toArray();
    const gotLogZ = crf.logPartition(emissions, mask).toArray();
    const gotLl = crf.logLikelihood(emissions, tags, mask).toArray();
    LENGTHS.forEach((n, b) => {
      const gold = GOLD[b].slice(0, n);
      const logZ = logSumExp(paths(n).map((p) => score(b, p)));
      assert.ok(
        Math.abs(gotScore[b] - score(b, gold)) < 1e-5,
        `score ${b}: ${gotScore[b]} vs ${score(b, gold)}`,
      );
      assert.ok(Math.abs(gotLogZ[b] - logZ) < 1e-5, `log Z ${b}: ${gotLogZ[b]} vs ${logZ}`);
      assert.ok(Math.abs(gotLl[b] - (score(b, gold) - logZ)) < 1e-5);
      assert.ok(gotLl[b] < 0);
    });
  });
  crf.dispose();
});

test('Viterbi decoding equals the brute-force argmax path', () => {
  const crf = makeCrf();
  const decoded = noGrad(() => tidy(() => crf.decode(inputs().emissions, inputs().mask)));
  LENGTHS.forEach((n, b) => {
    const best = paths(n).reduce((a, p) => (score(b, p) > score(b, a) ? p : a));
    assert.deepEqual(decoded[b], best);
  });
  // Hand check of sequence 2 (length 2): start + emission + transition + end for the 9 paths; the best is
  // [0, 1]: 0.3 + 0.8 − 0.4 + 1.3 + 0.2 = 2.2.
  assert.deepEqual(decoded[1], [0, 1]);
  assert.ok(Math.abs(score(1, [0, 1]) - 2.2) < 1e-9);
  crf.dispose();
});

test('constrained Viterbi equals the brute-force argmax over allowed paths', () => {
  // Forbid 0 → 1 (the unconstrained best move of sequence 2), starting in tag 2 and ending in tag 0.
  const constraints: CrfConstraints = {
    transitions: [
      [true, false, true],
      [true, true, true],
      [true, true, true],
    ],
    start: [true, true, false],
    end: [false, true, true],
  };
  const allowed = (p: number[]) =>
    constraints.start[p[0]] &&
    constraints.end[p[p.length - 1]] &&
    p.every((tag, t) => t === 0 || constraints.transitions[p[t - 1]][tag]);
  const crf = makeCrf(constraints);
  const decoded = tidy(() => crf.decode(inputs().emissions, inputs().mask));
  LENGTHS.forEach((n, b) => {
    const best = paths(n)
      .filter(allowed)
      .reduce((a, p) => (score(b, p) > score(b, a) ? p : a));
    assert.deepEqual(decoded[b], best);
    assert.ok(allowed(decoded[b]));
  });
  assert.notDeepEqual(decoded[1], [0, 1]);
  // Per-sequence bounds: sequence 1 may start anywhere, sequence 2 may end anywhere (windows of a long text).
  const bounded = tidy(() =>
    crf.decode(inputs().emissions, inputs().mask, { start: [false, true], end: [true, false] }),
  );
  LENGTHS.forEach((n, b) => {
    const ok = (p: number[]) =>
      (b === 0 || constraints.start[p[0]]) &&
      (b === 1 || constraints.end[p[p.length - 1]]) &&
      p.every((tag, t) => t === 0 || constraints.transitions[p[t - 1]][tag]);
    const best = paths(n)
      .filter(ok)
      .reduce((a, p) => (score(b, p) > score(b, a) ? p : a));
    assert.deepEqual(bounded[b], best);
  });
  assert.deepEqual(bounded[0], [2, 0, 2]); // starts in tag 2, which the start constraint forbids
  // Constraints only shape decoding: the likelihood is the unconstrained one.
  const ll = tidy(() => {
    const { emissions, tags, mask } = inputs();
    return crf.logLikelihood(emissions, tags, mask).toArray();
  });
  const logZ = logSumExp(paths(3).map((p) => score(0, p)));
  assert.ok(Math.abs(ll[0] - (score(0, GOLD[0]) - logZ)) < 1e-5);
  crf.dispose();
});

test('gradients flow: d(−log p)/d emission = tag marginal − gold indicator, and every parameter gets one', () => {
  const crf = makeCrf();
  tidy(() => {
    const { tags, mask } = inputs();
    const emissions = tensor(EMISSIONS.flat(2), [2, T, K]);
    emissions.requiresGrad = true;
    crf.logLikelihood(emissions, tags, mask).sum().neg().backward();
    const grad = emissions.grad!.toArray();
    LENGTHS.forEach((n, b) => {
      const all = paths(n);
      const logZ = logSumExp(all.map((p) => score(b, p)));
      for (let t = 0; t < T; t++) {
        for (let k = 0; k < K; k++) {
          const marginal =
            t < n ? all.filter((p) => p[t] === k).reduce((s, p) => s + Math.exp(score(b, p) - logZ), 0) : 0;
          const expected = t < n ? marginal - (GOLD[b][t] === k ? 1 : 0) : 0;
          const got = grad[(b * T + t) * K + k];
          assert.ok(Math.abs(got - expected) < 1e-5, `grad[${b},${t},${k}] ${got} vs ${expected}`);
        }
      }
    });
    for (const [name, p] of crf.namedParameters()) {
      const g = p.grad;
      assert.ok(g, `${name} has no gradient`);
      assert.ok(g.abs().sum().item() > 0, `${name} has a zero gradient`);
    }
  });
  crf.dispose();
});
