/**
 * What the report compares: a model directory's quality on labelled data, and its speed the way a
 * small online service runs it — one request at a time (batch 1) on one thread, tokenisation included.
 */
import { getNumThreads, setNumThreads } from '../../engine/runtime.js';
import type { ClassificationExample } from '../../data/readers/types.js';
import { loadModelDir } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';

export interface ModelMeasurement {
  modelDir: string;
  net: string;
  parameters: number;
  /** Metrics on the evaluation file (accuracy, macro_f1, …). */
  metrics: Record<string, number>;
  /** Examples per second at batch 1 on one thread. */
  qps: number;
  /** Mean milliseconds per example at batch 1 on one thread. */
  latencyMs: number;
  qpsExamples: number;
}

export interface MeasureOptions {
  /** Labelled data to evaluate on. */
  evalFile: string;
  /** How many examples (from the evaluation file, cycled if short) to time one by one. */
  qpsExamples: number;
  batchSize?: number;
}

/** Warm-up predictions before timing (first calls allocate, fill caches and start libtorch's pools). */
const WARMUP = { min: 20, max: 200, share: 0.25 };

export async function measureModel(modelDir: string, options: MeasureOptions): Promise<ModelMeasurement> {
  const m = loadModelDir(modelDir);
  try {
    const examples = (await m.task.read(options.evalFile, { labelled: true })) as ClassificationExample[];
    const features = examples.map((e) => m.task.encode(e));
    const { metrics } = m.task.evaluate(m.model, examples, features, options.batchSize ?? 64);
    const unlabelled = examples.map((e) => ({ text: e.text, textB: e.textB }));
    const timing = timeOneByOne(
      (e) => m.task.predict(m.model, [m.task.encode(e)]),
      unlabelled,
      options.qpsExamples,
    );
    return {
      modelDir,
      net: m.manifest.net,
      parameters: m.model.numParameters(),
      metrics,
      ...timing,
    };
  } finally {
    m.model.dispose();
  }
}

/**
 * Calls `predict` on `count` examples one at a time, on one libtorch thread (restored afterwards).
 */
export function timeOneByOne<E>(
  predict: (example: E) => unknown,
  examples: readonly E[],
  count: number,
): { qps: number; latencyMs: number; qpsExamples: number } {
  if (examples.length === 0) throw new UserError('no examples to time');
  const threads = getNumThreads();
  setNumThreads(1);
  try {
    const warmup = Math.min(WARMUP.max, Math.max(WARMUP.min, Math.round(WARMUP.share * count)));
    for (let i = 0; i < warmup; i++) predict(examples[i % examples.length]);
    const started = performance.now();
    for (let i = 0; i < count; i++) predict(examples[i % examples.length]);
    const seconds = (performance.now() - started) / 1000;
    return { qps: count / seconds, latencyMs: (1000 * seconds) / count, qpsExamples: count };
  } finally {
    setNumThreads(threads);
  }
}
