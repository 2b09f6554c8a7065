/**
 * Running a model for inference: evaluation mode (no dropout), put back afterwards, and the batch loop
 * every task's prediction and evaluation share (eval mode → batches → no autograd → a tidy scope per
 * batch, so only plain values leave a batch and no tensor outlives it).
 */
import { noGrad, tidy } from '../engine/scope.js';
import type { Module } from '../engine/nn/module.js';
import { batchIndices } from './batching.js';

/** Runs `fn` with `m` in evaluation mode (no dropout), then puts `m` back in the mode it was in. */
export function inEvalMode<T>(m: Module, fn: () => T): T {
  const wasTraining = m.training;
  m.eval();
  try {
    return fn();
  } finally {
    m.train(wasTraining);
  }
}

/**
 * Runs `compute` on `items` in consecutive batches of `batchSize` with `m` in evaluation mode, without
 * autograd, each call in its own tidy scope; `use` receives each batch's result (plain values: tensors
 * made by `compute` are freed) with the batch and its item indices, in order.
 */
export function inferenceBatches<T, R>(
  m: Module,
  items: readonly T[],
  batchSize: number,
  compute: (batch: T[]) => R,
  use: (result: R, batch: T[], indices: number[]) => void,
): void {
  inEvalMode(m, () => {
    for (const indices of batchIndices(items.length, batchSize)) {
      const batch = indices.map((i) => items[i]);
      use(
        noGrad(() => tidy(() => compute(batch))),
        batch,
        indices,
      );
    }
  });
}
