/**
 * What the report compares: each model directory's quality on labelled data, and its speed the way a
 * small online service runs it — one request at a time (batch 1) on one thread, tokenisation included.
 *
 * Speed is compared between models, so the models are timed together: in rounds, each round timing
 * every model on the same examples in turn, and each model's speed is its best round. A machine whose
 * load changes while the report runs then slows every model alike instead of whichever ran last.
 */
import { getNumThreads, setNumThreads } from '../../engine/runtime.js';
import type { ClassificationExample } from '../../data/readers/types.js';
import { loadModelDir, type LoadedModel } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';

export interface ModelMeasurement {
  modelDir: string;
  net: string;
  parameters: number;
  /** Metrics on the evaluation file (accuracy, macro_f1, …). */
  metrics: Record<string, number>;
  /** Examples per second at batch 1 on one thread (best round). */
  qps: number;
  /** Milliseconds per example at batch 1 on one thread (best round). */
  latencyMs: number;
  /** Examples timed per round, and rounds. */
  qpsExamples: number;
  rounds: number;
}

export interface MeasureOptions {
  /** Labelled data to evaluate on. */
  evalFile: string;
  /** Examples (from the evaluation file, cycled if short) timed one by one per round. */
  qpsExamples: number;
  /** Timing rounds (default 3). */
  rounds?: number;
  batchSize?: number;
  /** Called before each model is evaluated. */
  onModel?: (dir: string) => void;
}

/** Warm-up predictions before timing (first calls allocate, fill caches and start libtorch's pools). */
const WARMUP = { min: 20, max: 200, share: 0.25 };

export async function measureModels(dirs: string[], options: MeasureOptions): Promise<ModelMeasurement[]> {
  const rounds = options.rounds ?? 3;
  const loaded: LoadedModel[] = [];
  try {
    const quality: { metrics: Record<string, number>; examples: ClassificationExample[] }[] = [];
    for (const dir of dirs) {
      options.onModel?.(dir);
      const m = loadModelDir(dir);
      loaded.push(m);
      const examples = (await m.task.read(options.evalFile, { labelled: true })) as ClassificationExample[];
      const features = examples.map((e) => m.task.encode(e));
      quality.push({
        metrics: m.task.evaluate(m.model, examples, features, options.batchSize ?? 64).metrics,
        examples,
      });
    }
    const inputs = quality[0]?.examples.map((e) => ({ text: e.text, textB: e.textB })) ?? [];
    const predictors = loaded.map(
      (m) => (e: { text: string; textB?: string }) => m.task.predict(m.model, [m.task.encode(e)]),
    );
    const best = timeInRounds(predictors, inputs, options.qpsExamples, rounds);
    return loaded.map((m, i) => ({
      modelDir: dirs[i],
      net: m.manifest.net,
      parameters: m.model.numParameters(),
      metrics: quality[i].metrics,
      qps: options.qpsExamples / best[i],
      latencyMs: (1000 * best[i]) / options.qpsExamples,
      qpsExamples: options.qpsExamples,
      rounds,
    }));
  } finally {
    for (const m of loaded) m.model.dispose();
  }
}

/**
 * Times each `predict` on `count` examples one at a time, on one libtorch thread (restored afterwards),
 * in `rounds` interleaved rounds after a warm-up. Returns each one's best round, in seconds.
 */
export function timeInRounds<E>(
  predictors: ((example: E) => unknown)[],
  examples: readonly E[],
  count: number,
  rounds: number,
): number[] {
  if (examples.length === 0) throw new UserError('no examples to time');
  if (!(rounds >= 1 && count >= 1)) throw new UserError('timing needs at least one round of one example');
  const threads = getNumThreads();
  setNumThreads(1);
  try {
    const warmup = Math.min(WARMUP.max, Math.max(WARMUP.min, Math.round(WARMUP.share * count)));
    for (const predict of predictors) {
      for (let i = 0; i < warmup; i++) predict(examples[i % examples.length]);
    }
    const best = predictors.map(() => Infinity);
    for (let r = 0; r < rounds; r++) {
      predictors.forEach((predict, k) => {
        const started = performance.now();
        for (let i = 0; i < count; i++) predict(examples[i % examples.length]);
        best[k] = Math.min(best[k], (performance.now() - started) / 1000);
      });
    }
    return best;
  } finally {
    setNumThreads(threads);
  }
}
