/**
 * The training loop, the same for every task: batches of encoded examples → task model loss →
 * AdamW with warm-up and decay → periodic logging, dev evaluation, best-model saving, early stopping and
 * resumable checkpoints. Everything it writes lives under `trainer.output_dir`:
 *   metrics.jsonl          one JSON line per train log and per evaluation
 *   checkpoints/step_N/    resumable checkpoints (newest 3 kept)
 *   best/                  the best model on the dev metric (or the final one without dev data)
 *   report.html            loss and metric curves, confusion matrix, config
 * As one rank of a data-parallel group (data-parallel.ts) it trains on its slice of every global batch and
 * only rank 0 writes there.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed } from '../engine/create.js';
import { AdamW } from '../engine/optim/adamw.js';
import { setNumThreads } from '../engine/runtime.js';
import type { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import { readVocabSource } from '../tasks/dataset-options.js';
import { createTask, type AnyTask } from '../tasks/registry.js';
import type { EvalResult, TaskModel } from '../tasks/task.js';
import { epochRng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { raiseSignal } from '../util/dir-lock.js';
import { batchIndices } from '../nets/batching.js';
import {
  assertRunOutputDir,
  latestCheckpoint,
  pruneCheckpoints,
  recoverOutputDir,
  restoreCheckpoint,
  saveCheckpoint,
  type TrainerPosition,
} from './checkpoint.js';
import { evalBatchSize, type TrainConfig } from '../config/run-config.js';
import { TensorBoardLog } from './tensorboard.js';
import { loadModelDir, saveModelDir } from './model-dir.js';
import { optimizerStep, type StepPlan } from './optimizer-step.js';
import { Progress } from './progress.js';
import { chanceVerdict } from '../metrics/chance.js';
import { lowerIsBetter } from '../metrics/direction.js';
import { renderReport } from './report-html.js';
import type { TrainEvent } from './train-events.js';
import { usedConfig } from './used-config.js';
import { dataParallel, defaultThreads, withRunLock, type ReducedStep } from './data-parallel.js';

export interface TrainOptions {
  resume?: boolean;
  /** Lines for the user (progress goes to stderr separately). */
  log?: (line: string) => void;
  /** Aborting ends the run after the current step with a checkpoint, as Ctrl-C does, but raises nothing. */
  signal?: AbortSignal;
  /** Called after each optimizer step with the step's number (a caller's progress or stopping rule). */
  onStep?: (step: number) => void;
  quiet?: boolean;
  /** Progress as typed events (step, eval, checkpoint, done), besides or instead of the stderr lines. */
  onEvent?: (event: TrainEvent) => void;
}

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
  /** When the run began (performance.now()), if the caller did work before runTraining. */
  started?: number;
}

const KEEP_CHECKPOINTS = 3;

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
  const vocabSource = await readVocabSource(task, config);
  const trainSplit = await loadSplit(task, config.dataset.train, true, (ex) => task.fit(ex, vocabSource));
  if (written.dataset.tokenizer.type === 'auto')
    log(`tokenizer: auto chose "${tokenizer.type}" from the training texts`);
  const dev = config.dataset.dev ? await loadSplit(task, config.dataset.dev, true) : undefined;
  const testSplit = config.dataset.test ? await loadSplit(task, config.dataset.test, true) : undefined;
  log(
    `alembic: ${config.task} with ${config.model.net}: ${trainSplit.examples.length} train` +
      (dev ? `, ${dev.examples.length} dev` : '') +
      (testSplit ? `, ${testSplit.examples.length} test` : '') +
      ' examples',
  );

  const model = task.buildModel();
  return runTraining(
    { config, task, model, train: trainSplit, dev, test: testSplit, started },
    { ...opts, log },
  );
}

/** The training loop over a prepared task, model and data (see TrainingJob), holding the output lock. */
export async function runTraining(job: TrainingJob, opts: TrainOptions = {}): Promise<TrainSummary> {
  return withRunLock(job.config.trainer.output_dir, () => {
    assertRunOutputDir(job.config.trainer.output_dir);
    return runTrainingLocked(job, opts);
  });
}

async function runTrainingLocked(job: TrainingJob, opts: TrainOptions): Promise<TrainSummary> {
  const dp = dataParallel();
  const writes = !dp || dp.isMain;
  // The other ranks train in silence: rank 0 speaks and writes for the group.
  const log = !writes ? () => {} : (opts.log ?? ((l: string) => process.stderr.write(l + '\n')));
  const { config, task, model, dev } = job;
  const trainSplit = job.train;
  const testSplit = job.test;
  const objective = job.objective ?? model;
  const t = config.trainer;
  const started = job.started ?? performance.now();
  const optimizer = new AdamW(decayGroups(objective, t.weight_decay), {
    lr: t.learning_rate,
    weightDecay: t.weight_decay,
  });
  // trainer.batch_size is per rank: a step of N ranks takes batch_size × N examples.
  const globalBatch = t.batch_size * (dp?.size ?? 1);
  const batchesPerEpoch = Math.ceil(trainSplit.features.length / globalBatch);
  const totalSteps = t.max_steps > 0 ? t.max_steps : t.epochs * batchesPerEpoch;
  const warmupSteps = Math.round(t.warmup_ratio * totalSteps);
  const stepPlan: StepPlan = {
    trainer: t,
    optimizer,
    params: objective.parameters(),
    warmupSteps,
    totalSteps,
  };
  const metric = t.early_stopping?.metric ?? t.metric ?? task.defaultMetric;
  log(
    `model: ${model.numParameters().toLocaleString('en')} parameters; ${totalSteps} steps of batch ${globalBatch}` +
      (dp ? ` (${dp.size} ranks × ${t.batch_size})` : ''),
  );

  const out = t.output_dir;
  if (writes) {
    mkdirSync(out, { recursive: true });
    for (const line of recoverOutputDir(out)) log(line);
  }
  // The other ranks read the checkpoint only once rank 0 has repaired the folder.
  dp?.barrier();
  const metricsFile = path.join(out, 'metrics.jsonl');
  let pos: TrainerPosition = {
    step: 0,
    epoch: 0,
    batchInEpoch: 0,
    best: null,
    evalsWithoutImprovement: 0,
    stopped: false,
    pendingLoss: { sum: 0, count: 0 },
  };
  const resumeFrom = opts.resume ? latestCheckpoint(out) : null;
  if (opts.resume && !resumeFrom) log(`no checkpoint under ${out}/checkpoints: starting from scratch`);
  if (resumeFrom) {
    pos = restoreCheckpoint(resumeFrom, model, optimizer);
    if (writes) truncateMetrics(metricsFile, pos.step);
    log(`resumed from ${resumeFrom} (step ${pos.step}, epoch ${pos.epoch + 1})`);
  } else if (writes) {
    writeFileSync(metricsFile, '');
  }
  if (dp) {
    dp.assertSame('the step of the checkpoint to resume from', resumeFrom ? pos.step : -1);
    dp.attach(stepPlan.params);
  }
  if (writes) writeFileSync(path.join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');

  const tensorboard =
    writes && t.tensorboard
      ? TensorBoardLog.open(path.join(out, 'tensorboard'), resumeFrom ? pos.step : undefined)
      : undefined;
  const record = (entry: Record<string, unknown>) => {
    if (!writes) return;
    appendFileSync(metricsFile, JSON.stringify(entry) + '\n');
    tensorboard?.add(entry);
  };
  const evalBatch = evalBatchSize(t);
  const evaluateModel = (m: TaskModel<unknown>, split: Split, batchSize: number): EvalResult =>
    job.evaluate
      ? job.evaluate(m, split, batchSize)
      : task.evaluate(m, split.examples, split.features, batchSize);
  const evaluate = (split: Split): EvalResult => evaluateModel(model, split, evalBatch);

  // A signal ends the run after the current step, with a checkpoint; the signal is then raised again
  // so the process ends as the user asked (a library caller or a benchmark does not carry on).
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = new Progress(totalSteps, pos.step, (opts.quiet ?? false) || !writes, t.train_log_step);
  // A resumed finished run has evaluated its last step already: evaluating again would log it twice.
  // (Every rank evaluates, on the same weights, so every rank takes the same early-stopping decision.)
  let lastEvalStep = resumeFrom ? lastEvalIn(metricsFile) : -1;
  const aborted = () => opts.signal?.aborted === true;
  let groupStopped = false;

  const doEval = () => {
    if (!dev) return;
    const r = evaluate(dev);
    lastEvalStep = pos.step;
    record({ type: 'eval', step: pos.step, epoch: pos.epoch + 1, ...r.metrics });
    const value = r.metrics[metric];
    if (value === undefined) {
      throw new UserError(
        `trainer.early_stopping.metric: "${metric}" is not one of ${Object.keys(r.metrics).join(', ')}`,
      );
    }
    const better = !pos.best || (lowerIsBetter(metric) ? value < pos.best.value : value > pos.best.value);
    progress.note(`eval step ${pos.step}: ${formatMetrics(r.metrics)}${better ? '  ← best' : ''}`);
    opts.onEvent?.({ type: 'eval', step: pos.step, metrics: r.metrics, best: better });
    if (better) {
      pos.best = { metric, value, step: pos.step };
      pos.evalsWithoutImprovement = 0;
      if (writes)
        saveModelDir(path.join(out, 'best'), config, task, model, { step: pos.step, dev: r.metrics });
    } else {
      pos.evalsWithoutImprovement++;
      const es = t.early_stopping;
      const stepsSinceBest = pos.step - (pos.best?.step ?? 0);
      if (
        es &&
        pos.evalsWithoutImprovement >= es.patience &&
        stepsSinceBest >= es.patience_epochs * batchesPerEpoch
      ) {
        pos.stopped = true;
        progress.note(
          `early stopping: ${metric} has not improved for ${pos.evalsWithoutImprovement} evaluations ` +
            `(${stepsSinceBest} steps)`,
        );
        if (pos.step < batchesPerEpoch) {
          log(
            `note: early stopping at step ${pos.step} of ${totalSteps}, before one pass over the training data ` +
              `(${batchesPerEpoch} steps); raise trainer.early_stopping.patience_epochs to train longer`,
          );
        }
      }
    }
  };

  try {
    outer: while (pos.step < totalSteps && !pos.stopped) {
      const batches = batchIndices(trainSplit.features.length, globalBatch, epochRng(t.seed, pos.epoch));
      for (let b = pos.batchInEpoch; b < batches.length; b++) {
        const mine = dp ? dp.shard(batches[b], t.batch_size) : batches[b];
        let localLoss = 0;
        let reduced: ReducedStep | undefined;
        if (dp) {
          stepPlan.afterBackward = () => {
            reduced = dp.reduceStep(
              mine.length,
              batches[b].length,
              localLoss,
              interrupted !== null || aborted(),
            );
          };
        }
        const ownLoss = optimizerStep(stepPlan, pos.step, () => {
          // A rank can be left without examples by the last, short, global batch of an epoch.
          if (mine.length === 0) return 0;
          const l = objective.loss(mine.map((i) => trainSplit.features[i]));
          l.backward();
          return (localLoss = l.item());
        });
        const loss = reduced ? reduced.loss : ownLoss;
        pos.step++;
        pos.batchInEpoch = b + 1;
        pos.pendingLoss.sum += loss;
        pos.pendingLoss.count++;
        progress.tick(pos.step, loss, pos.epoch + 1);
        opts.onEvent?.({
          type: 'step',
          step: pos.step,
          totalSteps,
          epoch: pos.epoch + 1,
          loss,
          lr: optimizer.learningRate,
        });
        // Let signal handlers (and anything else waiting) run: a purely synchronous loop would never see Ctrl-C.
        await new Promise<void>((resolve) => setImmediate(resolve));
        opts.onStep?.(pos.step);
        if (pos.step % t.train_log_step === 0) {
          const { sum, count } = pos.pendingLoss;
          record({
            type: 'train',
            step: pos.step,
            epoch: pos.epoch + 1, // counted from 1, as the console shows it
            loss: sum / count,
            lr: optimizer.learningRate,
          });
          pos.pendingLoss = { sum: 0, count: 0 };
        }
        if (pos.step % t.eval_step === 0) doEval();
        // In a group, a stop asked of any rank reaches all of them with this step's gradients.
        const stopAsked = reduced ? reduced.stop : interrupted !== null || aborted();
        if (stopAsked) groupStopped = true;
        const stopNow = pos.stopped || stopAsked || pos.step >= totalSteps;
        if ((pos.step % t.save_model_step === 0 || stopAsked) && writes) {
          const dir = saveCheckpoint(out, config, task, model, optimizer, normalised(pos, batches.length));
          pruneCheckpoints(out, KEEP_CHECKPOINTS);
          opts.onEvent?.({ type: 'checkpoint', step: pos.step, dir });
        }
        if (stopNow) break outer;
      }
      pos.epoch++;
      pos.batchInEpoch = 0;
    }
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  if (interrupted || ((aborted() || groupStopped) && pos.step < totalSteps && !pos.stopped)) {
    log(`stopped at step ${pos.step}; continue with --resume`);
    opts.onEvent?.({ type: 'done', step: pos.step, interrupted: true, outputDir: out });
    if (interrupted) raiseSignal(interrupted);
    return { ...summary(), interrupted: true };
  }

  if (dev && lastEvalStep !== pos.step) doEval();
  if (!writes) {
    // Return once rank 0 has written best/ and the last checkpoint: what comes next may read them.
    dp?.barrier();
    return summary();
  }
  if (!dev) saveModelDir(path.join(out, 'best'), config, task, model, { step: pos.step });
  const last = saveCheckpoint(out, config, task, model, optimizer, { ...pos, stopped: true });
  pruneCheckpoints(out, KEEP_CHECKPOINTS);
  opts.onEvent?.({ type: 'checkpoint', step: pos.step, dir: last });
  dp?.barrier();

  const result = summary();
  const best = loadModelDir(path.join(out, 'best'));
  try {
    const bestDev = dev
      ? job.evaluate
        ? job.evaluate(best.model, dev, evalBatch)
        : best.task.evaluate(best.model, dev.examples, dev.features, evalBatch)
      : undefined;
    result.dev = bestDev?.metrics;
    if (testSplit) {
      const testFeatures = testSplit.examples.map((e) => best.task.encode(e));
      result.test = best.task.evaluate(best.model, testSplit.examples, testFeatures, evalBatch).metrics;
      record({ type: 'test', step: pos.best?.step ?? pos.step, ...result.test });
    }
    const collapsed = bestDev?.confusion && chanceVerdict(bestDev.confusion).collapsedTo;
    const warning =
      collapsed === undefined
        ? undefined
        : `the best model predicts "${collapsed}" for every dev example: it has not learnt the task ` +
          '(try more epochs, another learning rate or, for a Transformer without pretrained_dir, ' +
          'the from-scratch recipe of `alembic init-config`)';
    if (warning) log(`\n*** WARNING: ${warning} ***\n`);
    const bestStep = pos.best?.step ?? pos.step;
    writeReport(out, config, metricsFile, metric, bestDev, `dev set, best model (step ${bestStep})`, warning ? [warning] : []);
  } finally {
    best.model.dispose();
  }
  log(
    `best model: ${path.join(out, 'best')}` +
      (pos.best ? ` (step ${pos.best.step}, ${metric} ${pos.best.value.toFixed(4)})` : ''),
  );
  if (result.test) log(`test: ${formatMetrics(result.test)}`);
  log(`report: ${path.join(out, 'report.html')}`);
  opts.onEvent?.({ type: 'done', step: pos.step, interrupted: false, outputDir: out });
  return result;

  function summary(): TrainSummary {
    return {
      outputDir: out,
      steps: pos.step,
      best: pos.best,
      seconds: (performance.now() - started) / 1000,
      parameters: model.numParameters(),
    };
  }
}

async function loadSplit<E, Fe>(
  task: AnyTask,
  file: string,
  labelled: boolean,
  beforeEncode?: (examples: E[]) => void,
): Promise<Split<E, Fe>> {
  const examples = (await task.read(file, { labelled })) as E[];
  beforeEncode?.(examples);
  return { examples, features: examples.map((e) => task.encode(e) as Fe) };
}

/** No weight decay on biases, LayerNorm parameters and embeddings (BERT's recipe). */
export function takesNoWeightDecay(name: string, p: Tensor): boolean {
  return /bias$|LayerNorm|norm\.|embedding/i.test(name) || p.ndim < 2;
}

/** The optimizer's two groups: weight decay on what takesNoWeightDecay leaves, none on the rest. */
export function decayGroups(model: Module, weightDecay: number): { params: Tensor[]; weightDecay: number }[] {
  const decay: Tensor[] = [];
  const noDecay: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (takesNoWeightDecay(name, p)) noDecay.push(p);
    else decay.push(p);
  }
  return [
    { params: decay, weightDecay },
    { params: noDecay, weightDecay: 0 },
  ];
}

/** A position at the end of an epoch becomes the start of the next one. */
function normalised(pos: TrainerPosition, batchesInEpoch: number): TrainerPosition {
  const copy = { ...pos, pendingLoss: { ...pos.pendingLoss } };
  return copy.batchInEpoch >= batchesInEpoch ? { ...copy, epoch: copy.epoch + 1, batchInEpoch: 0 } : copy;
}

/**
 * On resume, forget log lines written after the checkpoint (they will be written again), and a last line a
 * killed run left half written.
 */
function truncateMetrics(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => {
      const e = parseLogLine(l);
      return e !== undefined && Number(e.step) <= step && e.type !== 'test';
    });
  writeFileSync(file, kept.map((l) => l + '\n').join(''));
}

function parseLogLine(line: string): Record<string, number | string> | undefined {
  if (!line.trim()) return undefined;
  try {
    return JSON.parse(line) as Record<string, number | string>;
  } catch {
    return undefined;
  }
}

/** The step of the last evaluation logged, or -1. */
function lastEvalIn(file: string): number {
  const evals = readMetricsLog(file).filter((e) => e.type === 'eval');
  return evals.length ? Number(evals[evals.length - 1].step) : -1;
}

export function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(', ');
}

export function readMetricsLog(file: string): Record<string, number | string>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
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
