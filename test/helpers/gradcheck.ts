/**
 * Central finite-difference gradient checking in float64, for tests.
 */
import assert from 'node:assert/strict';
import { fromTyped } from '../../src/engine/create.js';
import { tidy } from '../../src/engine/scope.js';
import type { Tensor } from '../../src/engine/tensor.js';

/** Random float64 values in [-1, 1) from a seeded LCG (independent of libtorch's generator). */
export function randomValues(n: number, seed: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/**
 * Checks d(sum(f(inputs) * w))/d(input) from autograd against central differences, where w is a fixed
 * random weighting so that every output element matters.
 */
export function gradcheck(
  name: string,
  f: (...xs: Tensor[]) => Tensor,
  inputs: { values: Float64Array; shape: number[] }[],
  { eps = 1e-6, tol = 1e-5 }: { eps?: number; tol?: number } = {},
): void {
  tidy(() => {
    const xs = inputs.map((i) => {
      const t = fromTyped(i.values, i.shape, 'float64');
      t.requiresGrad = true;
      return t;
    });
    const out0 = f(...xs);
    const weights = fromTyped(randomValues(out0.numel, 99), out0.shape, 'float64');
    const objective = (ys: Tensor[]) =>
      tidy(() =>
        f(...ys)
          .mul(weights)
          .sum()
          .item(),
      );
    const loss = f(...xs)
      .mul(weights)
      .sum();
    loss.backward();
    inputs.forEach((input, k) => {
      const analytic = xs[k].grad!.toFloat64Array();
      for (let i = 0; i < input.values.length; i++) {
        const plus = Float64Array.from(input.values);
        const minus = Float64Array.from(input.values);
        plus[i] += eps;
        minus[i] -= eps;
        const with_ = (v: Float64Array) =>
          objective(xs.map((x, j) => (j === k ? fromTyped(v, input.shape, 'float64') : x.detach())));
        const numeric = (with_(plus) - with_(minus)) / (2 * eps);
        const err = Math.abs(numeric - analytic[i]) / Math.max(1, Math.abs(numeric));
        assert.ok(
          err < tol,
          `${name}: input ${k} element ${i}: autograd ${analytic[i]} vs finite difference ${numeric}`,
        );
      }
    });
  });
}
