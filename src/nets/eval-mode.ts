import type { Module } from '../engine/nn/module.js';

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
