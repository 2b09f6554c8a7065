/**
 * Resumable checkpoints: `output_dir/checkpoints/step_N/` holds the model files plus the optimizer's
 * moments, libtorch's generator state and the trainer's position, written to a temporary directory and
 * renamed, so an interruption at any moment leaves either the previous complete checkpoint or the new one.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Module } from '../engine/nn/module.js';
import type { Optimizer } from '../engine/optim/optimizer.js';
import { disposeAll, getRngState, loadTensors, saveTensors, setRngState } from '../engine/state-io.js';
import type { Tensor } from '../engine/tensor.js';
import { UserError } from '../util/errors.js';
import { recoverReplacements, replaceDir, type DirKind } from '../util/replace-dir.js';
import { MODEL_DIR, WEIGHTS_FILE } from './model-dir.js';
import type { SourcePosition } from './training-hooks.js';

const OPTIMIZER_FILE = 'optimizer.safetensors';
const STATE_FILE = 'trainer_state.json';
const RNG_TENSOR = '__torch_rng_state__';

/** Where the trainer stands (its batch source's position included); enough to continue exactly where it stopped. */
export interface TrainerPosition extends SourcePosition {
  step: number;
  best: { metric: string; value: number; step: number } | null;
  evalsWithoutImprovement: number;
  stopped: boolean;
  /** Training losses since the last log line, so a resumed run logs the same averages. */
  pendingLoss: { sum: number; count: number };
}

/** A complete checkpoint: its trainer state (written last) reads as JSON. */
export const CHECKPOINT_DIR: DirKind = {
  name: 'an alembic checkpoint',
  is: (dir) => {
    try {
      return typeof JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8')).step === 'number';
    } catch {
      return false;
    }
  },
};

/** A training run's output directory (what a pipeline may clear before training there afresh). */
export const TRAINING_RUN: DirKind = {
  name: 'a training run (metrics.jsonl, checkpoints/, best/)',
  is: (dir) => ['metrics.jsonl', 'checkpoints', 'best'].some((name) => existsSync(path.join(dir, name))),
};

/**
 * A run rewrites config.json and report.html at the top of output_dir: there they must be an earlier run's,
 * not the user's (`output_dir: "."` next to the config file would overwrite it).
 */
export function assertRunOutputDir(outputDir: string): void {
  if (!existsSync(outputDir) || TRAINING_RUN.is(outputDir)) return;
  const theirs = ['config.json', 'report.html'].filter((name) => existsSync(path.join(outputDir, name)));
  if (theirs.length > 0) {
    throw new UserError(
      `${outputDir}: holds ${theirs.join(' and ')} but no training run; training would overwrite ` +
        `${theirs.length > 1 ? 'them' : 'it'} (choose a trainer.output_dir of its own)`,
    );
  }
}

export function checkpointDir(outputDir: string, step: number): string {
  return path.join(outputDir, 'checkpoints', `step_${step}`);
}

/** Writes checkpoint step_N: `writeModel` puts the model's files (its weights at least) into the new folder. */
export function saveCheckpoint(
  outputDir: string,
  writeModel: (dir: string) => void,
  optimizer: Optimizer,
  position: TrainerPosition,
): string {
  const dir = checkpointDir(outputDir, position.step);
  replaceDir(dir, CHECKPOINT_DIR, (tmp) => {
    writeModel(tmp);
    const { step, tensors } = optimizer.state();
    const rng = getRngState();
    try {
      saveTensors(path.join(tmp, OPTIMIZER_FILE), new Map([...tensors, [RNG_TENSOR, rng]]), {
        optimizer_step: String(step),
      });
    } finally {
      rng.dispose();
    }
    // Written last: its presence marks the checkpoint complete.
    writeFileSync(path.join(tmp, STATE_FILE), JSON.stringify(position, null, 2) + '\n');
  });
  return dir;
}

/** The newest complete checkpoint directory, or null. */
export function latestCheckpoint(outputDir: string): string | null {
  const root = path.join(outputDir, 'checkpoints');
  if (!existsSync(root)) return null;
  const steps = readdirSync(root)
    .map((name) => /^step_(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && CHECKPOINT_DIR.is(path.join(root, m[0])))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length ? path.join(root, `step_${steps[0]}`) : null;
}

/**
 * Finishes or rolls back the replacements of best/ and of checkpoints that a killed run left half done, and
 * removes the temporary directories of dead runs. Returns a line per restored directory.
 */
export function recoverOutputDir(outputDir: string): string[] {
  return [
    ...recoverReplacements(outputDir, MODEL_DIR, 'best'),
    ...recoverReplacements(path.join(outputDir, 'checkpoints'), CHECKPOINT_DIR),
  ];
}

/** Loads weights, optimizer moments and generator state; returns the trainer position. */
export function restoreCheckpoint(dir: string, model: Module, optimizer: Optimizer): TrainerPosition {
  const position = JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8')) as TrainerPosition;
  const weights = loadTensors(path.join(dir, WEIGHTS_FILE)).tensors;
  try {
    model.loadStateDict(weights, { source: path.join(dir, WEIGHTS_FILE) });
  } finally {
    disposeAll(weights);
  }
  const { tensors, metadata } = loadTensors(path.join(dir, OPTIMIZER_FILE));
  try {
    const rng = tensors.get(RNG_TENSOR);
    if (!rng) throw new UserError(`${dir}: checkpoint lacks the generator state`);
    setRngState(rng);
    const optimizerTensors = new Map<string, Tensor>([...tensors].filter(([k]) => k !== RNG_TENSOR));
    optimizer.loadState({ step: Number(metadata.optimizer_step), tensors: optimizerTensors });
  } finally {
    disposeAll(tensors);
  }
  return position;
}

/** Keeps the newest `keep` checkpoints, deleting older ones. */
export function pruneCheckpoints(outputDir: string, keep: number): void {
  const root = path.join(outputDir, 'checkpoints');
  if (!existsSync(root)) return;
  const dirs = readdirSync(root)
    .map((name) => ({ name, m: /^step_(\d+)$/.exec(name) }))
    .filter((d) => d.m)
    .sort((a, b) => Number(b.m![1]) - Number(a.m![1]));
  for (const d of dirs.slice(keep)) rmSync(path.join(root, d.name), { recursive: true, force: true });
}
