/**
 * What the report compares: each model directory's quality on labelled data, and its speed the way a
 * small online service runs it — one request at a time (batch 1) on one thread, tokenisation included —
 * in two runtimes: libtorch, which trained it, and onnxruntime on its fp32 ONNX export, which serves it
 * (src/deploy). At batch 1 a small net's time is mostly per-call overhead, which differs between the two.
 *
 * Speed is compared between models, so the models are timed together: in rounds, each round timing
 * every model in both runtimes on the same examples in turn, and each one's speed is its best round. A
 * machine whose load changes while the report runs then slows every model alike instead of whichever
 * ran last.
 */
import { getNumThreads, setNumThreads } from '../../engine/runtime.js';
import type { ClassificationExample } from '../../data/readers/types.js';
import { loadModelDir, type LoadedModel } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';
import { ensureOnnxExport, OnnxPredictors } from './onnx-speed.js';

/** The runtimes a model is timed in: the training one and the deployment one. */
export const SPEED_RUNTIMES = ['libtorch', 'onnx'] as const;
export type SpeedRuntime = (typeof SPEED_RUNTIMES)[number];

export interface Speed {
  /** Examples per second at batch 1 on one thread (best round). */
  qps: number;
  /** Milliseconds per example at batch 1 on one thread (best round). */
  latencyMs: number;
}

export interface ModelMeasurement {
  modelDir: string;
  /** Its fp32 ONNX export, the one timed in onnxruntime. */
  onnxDir: string;
  net: string;
  parameters: number;
  /** Metrics on the evaluation file (accuracy, macro_f1, …). */
  metrics: Record<string, number>;
  /** Batch-1 one-thread speed in each runtime. */
  speed: Record<SpeedRuntime, Speed>;
  /** Examples timed per round, and rounds. */
  qpsExamples: number;
  rounds: number;
}

/** A model directory and where its ONNX export goes (reused when newer than the model). */
export interface ModelToMeasure {
  dir: string;
  onnxDir: string;
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
  /** Called after each ONNX export is made or found up to date. */
  onExport?: (dir: string, onnxDir: string, reused: boolean) => void;
}

/** Warm-up predictions before timing (first calls allocate, fill caches and start libtorch's pools). */
const WARMUP = { min: 20, max: 200, share: 0.25 };

export async function measureModels(
  models: ModelToMeasure[],
  options: MeasureOptions,
): Promise<ModelMeasurement[]> {
  const rounds = options.rounds ?? 3;
  const loaded: LoadedModel[] = [];
  let onnx: OnnxPredictors | undefined;
  try {
    const quality: { metrics: Record<string, number>; examples: ClassificationExample[] }[] = [];
    for (const { dir } of models) {
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
    for (const { dir, onnxDir } of models) {
      const { reused } = await ensureOnnxExport(dir, onnxDir);
      options.onExport?.(dir, onnxDir, reused);
    }
    onnx = await OnnxPredictors.open(models.map((m) => m.onnxDir));
    const inputs = quality[0]?.examples.map((e) => ({ text: e.text, textB: e.textB })) ?? [];
    const torch = loaded.map(
      (m) => (e: { text: string; textB?: string }) => m.task.predict(m.model, [m.task.encode(e)]),
    );
    // Both runtimes in the same rounds: libtorch's models, then onnxruntime's.
    const best = await timeInRounds([...torch, ...onnx.batchOne()], inputs, options.qpsExamples, rounds);
    const speed = (seconds: number): Speed => ({
      qps: options.qpsExamples / seconds,
      latencyMs: (1000 * seconds) / options.qpsExamples,
    });
    return loaded.map((m, i) => ({
      modelDir: models[i].dir,
      onnxDir: models[i].onnxDir,
      net: m.manifest.net,
      parameters: m.model.numParameters(),
      metrics: quality[i].metrics,
      speed: { libtorch: speed(best[i]), onnx: speed(best[loaded.length + i]) },
      qpsExamples: options.qpsExamples,
      rounds,
    }));
  } finally {
    await onnx?.close();
    for (const m of loaded) m.model.dispose();
  }
}

/**
 * Times each `predict` on `count` examples one at a time, on one libtorch thread (restored afterwards),
 * in `rounds` interleaved rounds after a warm-up. A predict that returns a promise (onnxruntime) is
 * awaited before the next call; a synchronous one (libtorch) is not, so it pays no await. Returns each
 * one's best round, in seconds.
 */
export async function timeInRounds<E>(
  predictors: ((example: E) => unknown)[],
  examples: readonly E[],
  count: number,
  rounds: number,
): Promise<number[]> {
  if (examples.length === 0) throw new UserError('no examples to time');
  if (!(rounds >= 1 && count >= 1)) throw new UserError('timing needs at least one round of one example');
  const threads = getNumThreads();
  setNumThreads(1);
  try {
    const warmup = Math.min(WARMUP.max, Math.max(WARMUP.min, Math.round(WARMUP.share * count)));
    for (const predict of predictors) {
      for (let i = 0; i < warmup; i++) {
        const result = predict(examples[i % examples.length]);
        if (result instanceof Promise) await result;
      }
    }
    const best = predictors.map(() => Infinity);
    for (let r = 0; r < rounds; r++) {
      for (const [k, predict] of predictors.entries()) {
        const started = performance.now();
        for (let i = 0; i < count; i++) {
          const result = predict(examples[i % examples.length]);
          if (result instanceof Promise) await result;
        }
        best[k] = Math.min(best[k], (performance.now() - started) / 1000);
      }
    }
    return best;
  } finally {
    setNumThreads(threads);
  }
}
