/**
 * How long one training epoch of a Transformer takes on a CPU, for the advice on where to train. The guide
 * only says ERNIE is "too slow on CPU"; users need to know how slow for their data, so the advisor
 * estimates it: training costs about 6 × (non-embedding parameters) floating-point operations per token
 * (forward and backward), and a 2-core CPU sustains about CPU_TRAINING_GFLOPS of them, measured on
 * alembic's own 4-layer, hidden-256 training step (`npm run bench:engine`: ~650 ms for 32 × 64 tokens).
 */
import { MODEL_SHAPES } from './config-writer.js';

export type TransformerId = 'transformer-tiny' | 'transformer-base' | 'transformer-large';

export const CPU_TRAINING_GFLOPS = 50;
/** Epochs assumed for a run when deciding whether a size fits the time per iteration. */
export const ESTIMATE_EPOCHS = 3;
/** Hours one run may take when the spec gives no iteration_hours. */
export const DEFAULT_ITERATION_HOURS = 8;

/** Tokens per example: the average length (characters ≈ tokens for Chinese), 128 when unknown, at most 512. */
export function tokensPerExample(avgLength?: number): number {
  return Math.min(512, Math.max(1, Math.round(avgLength ?? 128)));
}

/** Estimated seconds per epoch of training `id` on `examples` examples on a 2-core CPU. */
export function cpuEpochSeconds(id: TransformerId, examples: number, avgLength?: number): number {
  const shape = MODEL_SHAPES[id];
  const hidden = shape.hidden_size ?? 0;
  const ffn = shape.ffn_size ?? 4 * hidden;
  const layers = shape.num_layers ?? 1;
  const paramsPerLayer = 4 * hidden * hidden + 2 * hidden * ffn;
  const flops = 6 * layers * paramsPerLayer * examples * tokensPerExample(avgLength);
  return flops / (CPU_TRAINING_GFLOPS * 1e9);
}

/** "40 s", "12 min", "3.5 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
