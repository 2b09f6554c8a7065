/**
 * Training one task: `train(config)` reads and encodes the data and builds the model; `runTraining(job)`
 * trains a prepared task, model and data (distillation brings its own objective and evaluation) in the
 * one training loop (training-loop.ts), then scores best/ on dev and test and writes the report.
 * Everything it writes lives under `trainer.output_dir`:
 *   metrics.jsonl          one JSON line per train log and per evaluation
 *   checkpoints/step_N/    resumable checkpoints (newest 3 kept)
 *   best/                  the best model on the dev metric (or the final one without dev data)
 *   report.html            loss and metric curves, confusion matrix, config
 * As one rank of a data-parallel group (data-parallel.ts) it trains on its slice of each global batch,
 * evaluates its slice of dev and test (sharded-evaluation.ts), and only rank 0 writes there.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed } from '../engine/create.js';
import { setNumThreads } from '../engine/runtime.js';
import { readVocabSource } from '../tasks/dataset-options.js';
import { createTask, type AnyTask } from '../tasks/registry.js';
import type { EvalResult, TaskModel } from '../tasks/task.js';
import { UserError } from '../util/errors.js';
import { assertRunOutputDir, type TrainerPosition } from './checkpoint.js';
import { evalBatchSize, type TrainConfig } from '../config/run-config.js';
import { EpochBatches } from './epoch-batches.js';
import { readMetricsLog } from './metrics-log.js';
import { loadModelDir, saveModelDir, writeModelFiles } from './model-dir.js';
import { chanceVerdict } from '../metrics/chance.js';
import { lowerIsBetter } from '../metrics/direction.js';
import { renderReport } from './report-html.js';
import type { BatchSource, TrainingMode } from './training-hooks.js';
import { type TrainingRun, type TrainOptions } from './training-loop.js';
import { usedConfig } from './used-config.js';
import { defaultThreads, globalBatchSize, rankTrainingLoop, withRunLock } from './data-parallel.js';
import { evaluateSharded, evaluatesInParts } from './sharded-evaluation.js';
import { streamTrainData } from './streamed-train-data.js';

export type { TrainOptions } from './training-loop.js';
export { readMetricsLog } from './metrics-log.js';

export interface TrainSummary {
  outputDir: string;
  steps: number;
  best: TrainerPosition['best'];
  dev?: Record<string, number>;
  test?: Record<string, number>;
  seconds: number;
  parameters: number;
  /** Set when the run stopped before its end (a signal or opts.signal); continue with resume. */
  interrupted?: boolean;
}

/** Examples of one data split and their encoded features, index for index. */
export interface Split<E = unknown, Fe = unknown> {
  examples: E[];
  features: Fe[];
}

/**
 * Everything runTraining needs, prepared by the caller. `train()` builds it from a config; distillation
 * builds its own, with a student model and an objective around it.
 */
export interface TrainingJob {
  /** Saved into every model directory; its `trainer` section drives the loop. */
  config: TrainConfig;
  task: AnyTask;
  /** The model evaluated on dev, checkpointed, and saved as best/. */
  model: TaskModel<unknown>;
  /**
   * What the optimizer minimises, if not `model.loss` (e.g. a distillation loss around a frozen teacher).
   * Its parameters are the ones updated, so they must be exactly `model`'s, in the same order.
   */
  objective?: TaskModel<unknown>;
  train: Split;
  dev?: Split;
  test?: Split;
  /** Dev evaluation in place of the task's metrics (e.g. a distillation loss with no labels to score). */
  evaluate?: (model: TaskModel<unknown>, split: Split, batchSize: number) => EvalResult;
  /** The training batches, if not `train`'s features shuffled per epoch (e.g. a stream read as it goes). */
  batches?: BatchSource;
  /** When the run began (performance.now()), if the caller did work before runTraining. */
  started?: number;
}

/** Trains from a config, holding the lock on trainer.output_dir from before the data is read. */
export async function train(config: TrainConfig, opts: TrainOptions = {}): Promise<TrainSummary> {
  return withRunLock(config.trainer.output_dir, () => {
    assertRunOutputDir(config.trainer.output_dir);
    return trainLocked(config, opts);
  });
}

async function trainLocked(written: TrainConfig, opts: TrainOptions): Promise<TrainSummary> {
  // task.fit settles an "auto" tokenizer in this copy, which is saved with the model (tokenizers/auto.ts); the
  // caller's config stays as written, so a rerun with it (a resumed pipeline stage) sees the same settings.
  const tokenizer = { ...written.dataset.tokenizer };
  const config: TrainConfig = { ...written, dataset: { ...written.dataset, tokenizer } };
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const t = config.trainer;
  setNumThreads(t.threads ?? defaultThreads());
  manualSeed(t.seed);
  const started = performance.now();

  const task = createTask(config);
  const { streamed, note } = await streamTrainData(task, config, log);
  const vocabSource = streamed ? undefined : await readVocabSource(task, config);
  const trainSplit: Split = streamed
    ? { examples: [], features: [] }
    : await loadSplit(task, config.dataset.train, true, (ex) => task.fit(ex, vocabSource));
  if (note) log(note);
  if (written.dataset.tokenizer.type === 'auto')
    log(`tokenizer: auto chose "${tokenizer.type}" from the training texts`);
  const dev = config.dataset.dev ? await loadSplit(task, config.dataset.dev, true) : undefined;
  const testSplit = config.dataset.test ? await loadSplit(task, config.dataset.test, true) : undefined;
  log(
    `alembic: ${config.task} with ${config.model.net}: ${streamed?.count ?? trainSplit.examples.length} train` +
      (dev ? `, ${dev.examples.length} dev` : '') +
      (testSplit ? `, ${testSplit.examples.length} test` : '') +
      ' examples',
  );

  const model = task.buildModel();
  try {
    return await runTraining(
      { config, task, model, train: trainSplit, dev, test: testSplit, batches: streamed?.batches, started },
      { ...opts, log },
    );
  } finally {
    streamed?.batches.close();
  }
}

/** The training loop over a prepared task, model and data (see TrainingJob), holding the output lock. */
export async function runTraining(job: TrainingJob, opts: TrainOptions = {}): Promise<TrainSummary> {
  return withRunLock(job.config.trainer.output_dir, () => {
    assertRunOutputDir(job.config.trainer.output_dir);
    return runTrainingLocked(job, opts);
  });
}

async function runTrainingLocked(job: TrainingJob, opts: TrainOptions): Promise<TrainSummary> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const started = job.started ?? performance.now();
  const { run, opts: runOpts } = await rankTrainingLoop(job.config.trainer, singleTaskMode(job), job.config, {
    ...opts,
    log,
  });
  const summary: TrainSummary = {
    outputDir: run.out,
    steps: run.pos.step,
    best: run.pos.best,
    seconds: 0,
    parameters: job.model.numParameters(),
  };
  // Every rank scores best/ (each its slice of dev and test, sharded-evaluation.ts); rank 0 alone writes.
  if (run.interrupted) summary.interrupted = true;
  else Object.assign(summary, finishSingleTask(job, run, runOpts.writesOutputs ?? true));
  summary.seconds = (performance.now() - started) / 1000;
  if (!run.interrupted)
    opts.onEvent?.({ type: 'done', step: run.pos.step, interrupted: false, outputDir: run.out });
  return summary;
}

/** One task: the job's objective, its training split shuffled per epoch, its dev metric. */
function singleTaskMode(job: TrainingJob): TrainingMode {
  const { config, task, model, dev } = job;
  const t = config.trainer;
  const objective = job.objective ?? model;
  const metric = t.early_stopping?.metric ?? t.metric ?? task.defaultMetric;
  const evalBatch = evalBatchSize(t);
  return {
    trained: objective,
    model,
    // In a data-parallel group a step draws one global batch, which the ranks share out (data-parallel.ts).
    batches:
      job.batches ??
      new EpochBatches([{ features: job.train.features }], globalBatchSize(t.batch_size), t.seed),
    loss: (batch) => objective.loss(batch.features),
    lossUnits: objective.lossUnits && ((batch) => objective.lossUnits!(batch.features)),
    evaluate: dev
      ? () => {
          const { metrics } = evaluateSplit(job, task, model, dev, evalBatch);
          const value = metrics[metric];
          if (value === undefined) {
            throw new UserError(
              `trainer.early_stopping.metric: "${metric}" is not one of ${Object.keys(metrics).join(', ')}`,
            );
          }
          const text = formatMetrics(metrics);
          return { lines: [metrics], metrics, metric, value, lowerIsBetter: lowerIsBetter(metric), text };
        }
      : undefined,
    saveBest: (step, e) =>
      saveModelDir(
        path.join(t.output_dir, 'best'),
        config,
        task,
        model,
        e ? { step, dev: e.metrics } : { step },
      ),
    writeCheckpointModel: (dir, step) => writeModelFiles(dir, config, task, model, { step }),
  };
}

/**
 * Dev and test scores of best/; where `writes`, also the test line of metrics.jsonl, the collapse warning,
 * report.html, and the closing lines.
 */
function finishSingleTask(
  job: TrainingJob,
  run: TrainingRun,
  writes: boolean,
): Pick<TrainSummary, 'dev' | 'test'> {
  const { config, dev, test } = job;
  const { out, pos, log } = run;
  const t = config.trainer;
  const evalBatch = evalBatchSize(t);
  const metric = t.early_stopping?.metric ?? t.metric ?? job.task.defaultMetric;
  const result: Pick<TrainSummary, 'dev' | 'test'> = {};
  const best = loadModelDir(path.join(out, 'best'));
  try {
    // A rank that writes nothing takes part only in the evaluations that are shared out over the ranks.
    const joins = (byTask: boolean) => writes || (byTask && evaluatesInParts(best.task));
    const bestDev =
      dev && joins(!job.evaluate) ? evaluateSplit(job, best.task, best.model, dev, evalBatch) : undefined;
    result.dev = bestDev?.metrics;
    if (test && joins(true)) {
      const testFeatures = test.examples.map((e) => best.task.encode(e));
      result.test = evaluateSharded(best.task, best.model, test.examples, testFeatures, evalBatch).metrics;
      run.metrics.record({ type: 'test', step: pos.best?.step ?? pos.step, ...result.test });
    }
    if (!writes) return result;
    const collapsed = bestDev?.confusion && chanceVerdict(bestDev.confusion).collapsedTo;
    const warning =
      collapsed === undefined
        ? undefined
        : `the best model predicts "${collapsed}" for every dev example: it has not learnt the task ` +
          '(try more epochs, another learning rate or, for a Transformer without pretrained_dir, ' +
          'the from-scratch recipe of `alembic init-config`)';
    if (warning) log(`\n*** WARNING: ${warning} ***\n`);
    const bestStep = pos.best?.step ?? pos.step;
    writeReport(
      out,
      config,
      run.metrics.file,
      metric,
      bestDev,
      `dev set, best model (step ${bestStep})`,
      warning ? [warning] : [],
    );
  } finally {
    best.model.dispose();
  }
  log(
    `best model: ${path.join(out, 'best')}` +
      (pos.best ? ` (step ${pos.best.step}, ${metric} ${pos.best.value.toFixed(4)})` : ''),
  );
  if (result.test) log(`test: ${formatMetrics(result.test)}`);
  log(`report: ${path.join(out, 'report.html')}`);
  return result;
}

/** The job's own dev evaluation if it has one (whole), else the task's metrics (sharded over the ranks). */
function evaluateSplit(
  job: TrainingJob,
  task: AnyTask,
  model: TaskModel<unknown>,
  split: Split,
  batchSize: number,
): EvalResult {
  return job.evaluate
    ? job.evaluate(model, split, batchSize)
    : evaluateSharded(task, model, split.examples, split.features, batchSize);
}

/** Reads a data file and encodes its examples (`beforeEncode` sees them first, e.g. to fit the task). */
export async function loadSplit<E, Fe>(
  task: AnyTask,
  file: string,
  labelled: boolean,
  beforeEncode?: (examples: E[]) => void,
): Promise<Split<E, Fe>> {
  const examples = (await task.read(file, { labelled })) as E[];
  beforeEncode?.(examples);
  return { examples, features: examples.map((e) => task.encode(e) as Fe) };
}

export function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(', ');
}

function writeReport(
  out: string,
  config: TrainConfig,
  metricsFile: string,
  metric: string,
  bestDev?: EvalResult,
  evaluatedOn?: string,
  warnings: string[] = [],
): void {
  const entries = readMetricsLog(metricsFile);
  const html = renderReport({
    title: `alembic — ${config.task} (${config.model.net})`,
    config: usedConfig(config),
    trainLoss: entries
      .filter((e) => e.type === 'train')
      .map((e) => ({ step: Number(e.step), value: Number(e.loss) })),
    evalPoints: entries
      .filter((e) => e.type === 'eval')
      .map(({ type: _t, step, epoch: _e, ...metrics }) => ({
        step: Number(step),
        metrics: metrics as Record<string, number>,
      })),
    confusion: bestDev?.confusion,
    perLabel: bestDev?.perLabel,
    evaluatedOn,
    bestMetric: metric,
    warnings,
  });
  writeFileSync(path.join(out, 'report.html'), html);
}
