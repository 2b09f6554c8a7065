/**
 * Measured inference speed: latency and throughput of task.predict (the model's forward pass and the
 * task's decoding, from encoded features — tokenisation excluded) at a given batch size.
 *
 * Models that are compared are timed interleaved — one batch of each in turn, round after round — so a
 * busy spell on a shared machine slows all of them alike instead of whichever was being timed. A few
 * rounds warm up first (allocator, thread pool); the latency is the median batch time, so a stall does
 * not decide it, and QPS is the batch size over that median.
 */
import { getNumThreads } from '../../engine/runtime.js';
import type { AnyTask } from '../../tasks/registry.js';
import type { TaskModel } from '../../tasks/task.js';

export interface SpeedResult {
  batch_size: number;
  /** Median time of one batch, milliseconds. */
  latency_ms: number;
  /** Examples per second at the median latency. */
  qps: number;
  batches: number;
  threads: number;
}

export interface TimedModel {
  task: AnyTask;
  model: TaskModel<unknown>;
  /** Encoded examples to feed it (cycled through). */
  features: readonly unknown[];
}

const WARMUP_ROUNDS = 3;

/** One SpeedResult per model, timed interleaved at `batchSize` over about `examples` examples each. */
export function measureSpeeds(
  models: readonly TimedModel[],
  batchSize: number,
  examples: number,
): SpeedResult[] {
  const rounds = Math.max(3, Math.ceil(examples / batchSize));
  const cursors = models.map(() => 0);
  const batchOf = (m: number): unknown[] => {
    const { features } = models[m];
    if (features.length === 0) throw new Error('measureSpeeds: no examples to time');
    return Array.from({ length: batchSize }, () => features[cursors[m]++ % features.length]);
  };
  for (const m of models) m.model.eval();
  const times: number[][] = models.map(() => []);
  for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
    models.forEach((m, i) => {
      const input = batchOf(i);
      const t0 = performance.now();
      m.task.predict(m.model, input);
      if (round >= WARMUP_ROUNDS) times[i].push(performance.now() - t0);
    });
  }
  return times.map((t) => {
    const latency = median(t);
    return {
      batch_size: batchSize,
      latency_ms: latency,
      qps: (1000 * batchSize) / latency,
      batches: rounds,
      threads: getNumThreads(),
    };
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
