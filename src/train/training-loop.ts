/**
 * The one training loop, whatever is trained (a task, a distilled student, several tasks on one encoder):
 * AdamW with warm-up and decay over the batches of a BatchSource, periodic train-loss lines, dev
 * evaluation with best-model saving and early stopping, resumable checkpoints, and Ctrl-C ending the run
 * at a checkpoint. What varies is a TrainingMode (training-hooks.ts). Three parts, read top to bottom:
 *   startRun  the output folder, the optimizer, and the position (fresh, or restored from a checkpoint);
 *   stepLoop  one optimizer step per batch, then log / evaluate / checkpoint as the trainer config says;
 *   endRun    the last evaluation, best/ without dev data, the final checkpoint.
 * The caller reads what it needs from the finished run (best/, the metrics log) and reports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AdamW } from '../engine/optim/adamw.js';
import type { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import type { TrainerConfig } from '../config/run-config.js';
import { raiseSignal } from '../util/dir-lock.js';
import {
  latestCheckpoint,
  pruneCheckpoints,
  recoverOutputDir,
  restoreCheckpoint,
  saveCheckpoint,
  type TrainerPosition,
} from './checkpoint.js';
import { MetricsLog } from './metrics-log.js';
import { optimizerStep, type StepPlan } from './optimizer-step.js';
import { Progress } from './progress.js';
import type { TrainEvent } from './train-events.js';
import type { Evaluation, ProcessHooks, TrainingMode } from './training-hooks.js';

export interface TrainOptions extends ProcessHooks {
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

const KEEP_CHECKPOINTS = 3;

/** The position of a run that has not trained yet. */
function freshPosition(): TrainerPosition {
  return {
    step: 0,
    epoch: 0,
    batchInEpoch: 0,
    best: null,
    evalsWithoutImprovement: 0,
    stopped: false,
    pendingLoss: { sum: 0, count: 0 },
  };
}

/** A run in progress: what the three parts share. */
export interface TrainingRun {
  out: string;
  trainer: TrainerConfig;
  mode: TrainingMode;
  opts: TrainOptions;
  log: (line: string) => void;
  optimizer: AdamW;
  plan: StepPlan;
  totalSteps: number;
  pos: TrainerPosition;
  metrics: MetricsLog;
  progress: Progress;
  /** The epoch of the last batch trained (counted from 0), as the log lines name it. */
  epoch: number;
  lastEvalStep: number;
  /** Set when a signal or opts.signal ended the loop before the end. */
  interrupted: NodeJS.Signals | 'aborted' | null;
}

/**
 * Trains `mode` to the end (or to an interruption) in trainer.output_dir, which the caller holds locked.
 * `config` is written to output_dir/config.json.
 */
export async function trainingLoop(
  trainer: TrainerConfig,
  mode: TrainingMode,
  config: unknown,
  opts: TrainOptions,
): Promise<TrainingRun> {
  const run = startRun(trainer, mode, config, opts);
  await stepLoop(run);
  endRun(run);
  return run;
}

function startRun(
  trainer: TrainerConfig,
  mode: TrainingMode,
  config: unknown,
  opts: TrainOptions,
): TrainingRun {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const writes = opts.writesOutputs ?? true;
  const optimizer = new AdamW(decayGroups(mode.trained, trainer.weight_decay), {
    lr: trainer.learning_rate,
    weightDecay: trainer.weight_decay,
  });
  const totalSteps =
    trainer.max_steps > 0 ? trainer.max_steps : trainer.epochs * mode.batches.batchesPerEpoch;
  const plan: StepPlan = {
    trainer,
    optimizer,
    params: mode.trained.parameters(),
    warmupSteps: Math.round(trainer.warmup_ratio * totalSteps),
    totalSteps,
    afterBackward: opts.afterBackward,
  };
  log(
    `model: ${mode.model.numParameters().toLocaleString('en')} parameters; ${totalSteps} steps of batch ${trainer.batch_size}`,
  );

  const out = trainer.output_dir;
  if (writes) {
    mkdirSync(out, { recursive: true });
    for (const line of recoverOutputDir(out)) log(line);
  }
  let pos = freshPosition();
  const resumeFrom = opts.resume ? latestCheckpoint(out) : null;
  if (opts.resume && !resumeFrom) log(`no checkpoint under ${out}/checkpoints: starting from scratch`);
  if (resumeFrom) {
    pos = restoreCheckpoint(resumeFrom, mode.model, optimizer);
    mode.batches.seek(pos);
    log(`resumed from ${resumeFrom} (step ${pos.step}, epoch ${pos.epoch + 1})`);
  }
  const metrics = new MetricsLog(out, {
    resumedAt: resumeFrom ? pos.step : undefined,
    tensorboard: trainer.tensorboard,
    write: writes,
  });
  if (writes) writeFileSync(path.join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  opts.onStart?.(plan.params, resumeFrom ? pos.step : null);
  return {
    out,
    trainer,
    mode,
    opts,
    log,
    optimizer,
    plan,
    totalSteps,
    pos,
    metrics,
    progress: new Progress(totalSteps, pos.step, opts.quiet ?? false, trainer.train_log_step),
    epoch: pos.epoch,
    // A resumed finished run has evaluated its last step already: evaluating again would log it twice.
    lastEvalStep: resumeFrom ? metrics.lastEvalStep() : -1,
    interrupted: null,
  };
}

async function stepLoop(run: TrainingRun): Promise<void> {
  const { trainer: t, mode, pos, opts } = run;
  // A signal ends the run after the current step, with a checkpoint (endRun raises it again).
  const onSignal = (signal: NodeJS.Signals) => {
    run.interrupted = signal;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (pos.step < run.totalSteps && !pos.stopped) {
      const batch = mode.batches.next();
      const loss = optimizerStep(
        run.plan,
        pos.step,
        () => {
          const l = mode.loss(batch);
          (batch.weight === undefined ? l : l.mul(batch.weight)).backward();
          return l.item();
        },
        batch.task === undefined ? 'loss' : `${batch.task} loss`,
      );
      pos.step++;
      run.epoch = batch.epoch;
      addLoss(pos.pendingLoss, loss, batch.task);
      run.progress.tick(pos.step, loss, batch.epoch + 1);
      opts.onEvent?.({
        type: 'step',
        step: pos.step,
        totalSteps: run.totalSteps,
        epoch: batch.epoch + 1,
        loss,
        lr: run.optimizer.learningRate,
      });
      // Let signal handlers (and anything else waiting) run: a purely synchronous loop would never see Ctrl-C.
      await new Promise<void>((resolve) => setImmediate(resolve));
      opts.onStep?.(pos.step);
      if (opts.signal?.aborted && !run.interrupted) run.interrupted = 'aborted';
      // Processes training together stop after the same step, when any of them was asked to.
      if (opts.stopTogether?.(run.interrupted !== null) && !run.interrupted) run.interrupted = 'aborted';

      if (pos.step % t.train_log_step === 0) logTrainLoss(run);
      if (pos.step % t.eval_step === 0 && mode.evaluate) evaluate(run, mode.evaluate);
      if (pos.step % t.save_model_step === 0 || run.interrupted) checkpoint(run, pos.stopped);
      if (run.interrupted) break;
    }
  } finally {
    run.progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The last evaluation and the final checkpoint; an interrupted run just says how to continue. */
function endRun(run: TrainingRun): void {
  const { pos, mode, opts } = run;
  // An abort after the last step still lets the run finish: there is nothing left to continue.
  if (run.interrupted === 'aborted' && (pos.step >= run.totalSteps || pos.stopped)) run.interrupted = null;
  if (run.interrupted) {
    run.log(`stopped at step ${pos.step}; continue with --resume`);
    opts.onEvent?.({ type: 'done', step: pos.step, interrupted: true, outputDir: run.out });
    if (run.interrupted !== 'aborted') raiseSignal(run.interrupted);
    return;
  }
  if (mode.evaluate && run.lastEvalStep !== pos.step) evaluate(run, mode.evaluate);
  if (!mode.evaluate && writes(run)) mode.saveBest(pos.step);
  checkpoint(run, true);
}

function addLoss(pending: TrainerPosition['pendingLoss'], loss: number, task: string | undefined): void {
  pending.sum += loss;
  pending.count++;
  if (task === undefined) return;
  const p = ((pending.byTask ??= {})[task] ??= { sum: 0, count: 0 });
  p.sum += loss;
  p.count++;
}

/** A metrics.jsonl train line: the mean loss since the previous one (a line per task in multi-task training). */
function logTrainLoss(run: TrainingRun): void {
  const { step, pendingLoss } = run.pos;
  const lr = run.optimizer.learningRate;
  const epoch = run.epoch + 1; // counted from 1, as the console shows it
  const { sum, count, byTask } = pendingLoss;
  if (byTask) {
    for (const [task, p] of Object.entries(byTask))
      run.metrics.record({ type: 'train', step, epoch, task, loss: p.sum / p.count, lr });
  } else {
    run.metrics.record({ type: 'train', step, epoch, loss: sum / count, lr });
  }
  run.pos.pendingLoss = { sum: 0, count: 0 };
}

/** Evaluates on dev, logs, saves best/ on an improvement, and decides early stopping. */
function evaluate(run: TrainingRun, score: () => Evaluation): void {
  const { pos, trainer: t } = run;
  const e = score();
  run.lastEvalStep = pos.step;
  for (const line of e.lines)
    run.metrics.record({ type: 'eval', step: pos.step, epoch: run.epoch + 1, ...line });
  const better = !pos.best || (e.lowerIsBetter ? e.value < pos.best.value : e.value > pos.best.value);
  run.progress.note(`eval step ${pos.step}: ${e.text}${better ? '  ← best' : ''}`);
  run.opts.onEvent?.({ type: 'eval', step: pos.step, metrics: e.metrics, best: better });
  if (better) {
    pos.best = { metric: e.metric, value: e.value, step: pos.step };
    pos.evalsWithoutImprovement = 0;
    if (writes(run)) run.mode.saveBest(pos.step, e);
    return;
  }
  pos.evalsWithoutImprovement++;
  const es = t.early_stopping;
  const perEpoch = run.mode.batches.batchesPerEpoch;
  const stepsSinceBest = pos.step - (pos.best?.step ?? 0);
  if (!es || pos.evalsWithoutImprovement < es.patience || stepsSinceBest < es.patience_epochs * perEpoch)
    return;
  pos.stopped = true;
  run.progress.note(
    `early stopping: ${e.metric} has not improved for ${pos.evalsWithoutImprovement} evaluations ` +
      `(${stepsSinceBest} steps)`,
  );
  if (pos.step < perEpoch) {
    run.log(
      `note: early stopping at step ${pos.step} of ${run.totalSteps}, before one pass over the training data ` +
        `(${perEpoch} steps); raise trainer.early_stopping.patience_epochs to train longer`,
    );
  }
}

/** Writes checkpoint step_N (the newest KEEP_CHECKPOINTS are kept). */
function checkpoint(run: TrainingRun, stopped: boolean): void {
  if (!writes(run)) return;
  const { pos, mode } = run;
  const position: TrainerPosition = { ...pos, ...mode.batches.position(), stopped };
  const dir = saveCheckpoint(run.out, (d) => mode.writeCheckpointModel(d, pos.step), run.optimizer, position);
  pruneCheckpoints(run.out, KEEP_CHECKPOINTS);
  run.opts.onEvent?.({ type: 'checkpoint', step: pos.step, dir });
}

function writes(run: TrainingRun): boolean {
  return run.opts.writesOutputs ?? true;
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
