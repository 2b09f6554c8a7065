/**
 * The CLI verbs as functions: train, evaluate, exportModel, distill, dataDistill, advise. Each does the
 * same work as its command (the commands call these), takes a config object or a config file path, is
 * quiet by default, reports progress through `onProgress` (typed TrainEvent) and stops on an AbortSignal at
 * the next step boundary with a checkpoint written, so the same call with `resume: true` continues.
 */
import path from 'node:path';
import { adviseFromSpec, type Advice } from '../advise/advise.js';
import { exportModelDir, type ExportDirOptions, type ExportReport } from '../deploy/export/export-dir.js';
import {
  loadDataDistillConfig,
  parseDataDistillConfig,
  type ResolvedDataDistillConfig,
} from '../distill/data/data-distill-config.js';
import { runDataDistill } from '../distill/data/data-distillation.js';
import type { DataDistillReport } from '../distill/data/data-distill-report.js';
import { loadDistillConfig, parseDistillConfig, type DistillConfig } from '../distill/model/model-distill-config.js';
import { distill as runDistill, type DistillResult } from '../distill/model/model-distillation.js';
import type { EvalResult } from '../tasks/task.js';
import { loadConfig, parseConfig, type TrainConfig } from '../config/run-config.js';
import { loadModelDir } from '../train/model-dir.js';
import type { TrainEvent } from '../train/train-events.js';
import { train as runTrain, type TrainSummary } from '../train/trainer.js';
import { readJsonFile } from '../util/json-file.js';
// A training config may carry soft_labels (a teacher's probabilities): distillation's task variant.
import '../distill/data/soft-label-task.js';

export interface RunOptions {
  /** Progress events: steps (loss, learning rate), evaluations, checkpoints, the end of a run. */
  onProgress?: (event: TrainEvent) => void;
  /** Stops at the next step boundary with a checkpoint written; the result says `interrupted`. */
  signal?: AbortSignal;
  /** Lines a person would read (default: none; the CLI passes stderr). */
  log?: (line: string) => void;
  /** Draw the CLI's progress bar on stderr (default false). */
  verbose?: boolean;
  /** Threads for data distillation's training steps (their configs' trainer.threads otherwise). */
  threads?: number;
}

export interface TrainApiOptions extends RunOptions {
  /** Continue from the newest checkpoint in trainer.output_dir. */
  resume?: boolean;
}

/**
 * A config object is read as a config file in `baseDir` would be (default: the working directory): relative
 * data paths and output_dir resolve against it.
 */
export interface ConfigObject {
  config: unknown;
  baseDir?: string;
}

type ConfigInput<T> = string | T | ConfigObject;

const silent = () => {};

function resolveConfig<T>(
  input: ConfigInput<T>,
  load: (file: string) => T,
  parse: (raw: unknown, source: string, baseDir: string) => T,
  isParsed?: (x: unknown) => x is T,
): T {
  if (typeof input === 'string') return load(input);
  if (isParsed?.(input)) return input;
  const { config, baseDir = process.cwd() } = isConfigObject(input) ? input : { config: input };
  return parse(config, path.join(baseDir, '(config object)'), baseDir);
}

function isConfigObject(x: unknown): x is ConfigObject {
  return (
    typeof x === 'object' &&
    x !== null &&
    'config' in x &&
    Object.keys(x).every((k) => k === 'config' || k === 'baseDir')
  );
}

/**
 * Trains from a config file path, or a config object (`{config, baseDir}` or the JSON itself); an object is
 * always validated (parsing a parsed TrainConfig again gives it back unchanged), so a hand-made one is checked.
 */
export async function train(
  config: ConfigInput<TrainConfig>,
  opts: TrainApiOptions = {},
): Promise<TrainSummary> {
  const c = resolveConfig(config, loadConfig, parseConfig);
  return runTrain(c, {
    resume: opts.resume,
    quiet: !opts.verbose,
    log: opts.log ?? silent,
    signal: opts.signal,
    onEvent: opts.onProgress,
  });
}

export interface EvaluateOptions {
  batchSize?: number;
}

/** A trained model directory's metrics on a labelled file in its task's format. */
export async function evaluate(
  modelDir: string,
  dataFile: string,
  opts: EvaluateOptions = {},
): Promise<EvalResult> {
  const m = loadModelDir(modelDir);
  try {
    const examples = await m.task.read(dataFile, { labelled: true });
    const features = examples.map((e) => m.task.encode(e));
    return m.task.evaluate(m.model, examples, features, opts.batchSize ?? 64);
  } finally {
    m.model.dispose();
  }
}

/** Exports a trained model directory to ONNX in `outDir` (see `alembic export`). */
export function exportModel(
  modelDir: string,
  outDir: string,
  opts: ExportDirOptions = {},
): Promise<ExportReport> {
  return exportModelDir(modelDir, outDir, opts);
}

/** The distillation pipelines' options for RunOptions: quiet unless verbose, no log lines unless asked. */
function pipelineOptions(opts: RunOptions) {
  const { signal, threads } = opts;
  return { quiet: !opts.verbose, log: opts.log ?? silent, signal, threads, onEvent: opts.onProgress };
}

const isDistillConfig = (x: unknown): x is DistillConfig =>
  typeof x === 'object' && x !== null && 'trainers' in x && 'raw' in x;

/** Model distillation (FT → GED → TD1 → TD2); finished stages are not run again. */
export function distill(config: ConfigInput<DistillConfig>, opts: RunOptions = {}): Promise<DistillResult> {
  const c = resolveConfig(config, loadDistillConfig, parseDistillConfig, isDistillConfig);
  return runDistill(c, pipelineOptions(opts));
}

const isDataDistillConfig = (x: unknown): x is ResolvedDataDistillConfig =>
  typeof x === 'object' && x !== null && 'output_dir' in x && 'studentSources' in x;

/** Data distillation: teacher → augment and label → students → report. Every step resumes. */
export function dataDistill(
  config: ConfigInput<ResolvedDataDistillConfig>,
  opts: RunOptions = {},
): Promise<DataDistillReport> {
  const c = resolveConfig(config, loadDataDistillConfig, parseDataDistillConfig, isDataDistillConfig);
  return runDataDistill(c, pipelineOptions(opts));
}

/** The advisor's recommendation for a problem spec (a spec file path or the spec object). */
export function advise(spec: string | object): Advice {
  if (typeof spec === 'string') return adviseFromSpec(readJsonFile(spec, 'spec file'), spec);
  return adviseFromSpec(spec, '(spec object)');
}
