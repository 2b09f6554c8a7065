// The tiny model and data of the process-group tests, shared by the rank script (dist-worker.ts) and the
// tests that compute the expected results by hand in one process (test/engine/distributed.test.ts,
// test/engine/ddp-reducer.test.ts).
import assert from 'node:assert/strict';
import { tensor } from '../../src/engine/create.js';
import type { Tensor } from '../../src/engine/tensor.js';

/** The rows rank r trains on in the reducer scenario: 3 rows on rank 0, 5 on rank 1 (unequal on purpose). */
export function rowsOf(rank: number): number[][] {
  const n = rank === 0 ? 3 : 5;
  return Array.from({ length: n }, (_, i) => [0.1 * (i + 1) + rank, -0.2 * i, 0.05 * rank * i + 0.3]);
}

/** The tiny model's starting values: weight [2,3], bias [2], and a parameter only rank 1 uses. */
export const START = { weight: [0.1, -0.2, 0.3, 0.4, 0.0, -0.1], bias: [0.05, -0.05], extra: [1.5, -2] };

/** Per-row loss: the squared sum of the row's linear output. */
export function rowLoss(x: Tensor, weight: Tensor, bias: Tensor): Tensor {
  return x.matmul(weight.transpose(0, 1)).add(bias).pow(2).sum([1]);
}

export function params(): { weight: Tensor; bias: Tensor; extra: Tensor } {
  const weight = tensor(START.weight, [2, 3]);
  const bias = tensor(START.bias);
  const extra = tensor(START.extra);
  for (const p of [weight, bias, extra]) p.requiresGrad = true;
  return { weight, bias, extra };
}

/**
 * The reducer scenarios' expected result, computed in one process: the gradients of the mean loss over all
 * 8 rows (3 on rank 0, 5 on rank 1) plus rank 1's extra term weighted by its 5 of 8 rows, and the sum over
 * the ranks of loss × rows.
 */
export function referenceStep(): { grads: number[][]; lossSum: number } {
  const { weight, bias, extra } = params();
  const all = [...rowsOf(0), ...rowsOf(1)];
  const rowTerm = rowLoss(tensor(all.flat(), [all.length, 3]), weight, bias).sum();
  const extraTerm = extra.mul(extra).sum();
  rowTerm
    .div(all.length)
    .add(extraTerm.mul(rowsOf(1).length / all.length))
    .backward();
  return {
    grads: [weight, bias, extra].map((p) => p.grad!.toArray()),
    lossSum: rowTerm.item() + rowsOf(1).length * extraTerm.item(),
  };
}

/** Asserts actual equals expected within a relative tolerance. */
export function assertClose(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) =>
    assert.ok(
      Math.abs(v - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)),
      `${i}: ${v} vs ${expected[i]}`,
    ),
  );
}
