/**
 * Multi-task training (`alembic multitask --config multitask.json`): one shared encoder, one head per
 * task (classification of any kind, sequence labelling), each task with its own data, loss weight and
 * metrics. The config is its own small format:
 *
 *   {
 *     "dataset": { "tokenizer": {"type": "char"}, "max_len": 64 },      shared text settings
 *     "model":   { "net": "gru", "hidden_size": 128 },                  the shared encoder (+ head options)
 *     "trainer": { "epochs": 5, "batch_size": 32, "output_dir": "out" },
 *     "tasks": [
 *       { "name": "sentiment", "task": "text_classification", "train": "s/train.tsv", "dev": "s/dev.tsv" },
 *       { "name": "ner", "task": "sequence_labeling", "train": "n/train.tsv", "dev": "n/dev.tsv",
 *         "weight": 0.5, "dataset": { "tag_scheme": "BIOES" } }
 *     ]
 *   }
 *
 * Each task entry becomes an ordinary training config (shared sections + its files and dataset
 * overrides), so its data is read, encoded and evaluated by the task's own implementation. The tasks
 * share one vocabulary (the union of what each would build, unless a vocab file or pretrained_dir is
 * given). An epoch visits every batch of every task once, in a shuffled interleaving, so tasks are
 * sampled in proportion to their data (MT-DNN's scheme); a batch's loss is scaled by its task's weight.
 *
 * It trains in the one training loop (training-loop.ts), so it has what single-task training has:
 * checkpoints, `--resume` to the same weights as an uninterrupted run, Ctrl-C ending at a checkpoint,
 * early stopping. Outputs under trainer.output_dir: metrics.jsonl (train lines per task, each the mean
 * loss of its batches since the previous line; eval lines one per task), vocab.txt, config.json,
 * checkpoints/, multitask.json (the summary), and best/<task>/ — for each task a standalone model
 * directory (shared encoder + its head) that `alembic predict/eval/export` use like any other. The best
 * step is the one with the highest mean of the tasks' default metrics on dev (a lower-is-better metric
 * counted negated).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { manualSeed } from '../engine/create.js';
import { ModuleDict } from '../engine/nn/module.js';
import { setNumThreads } from '../engine/runtime.js';
import { saveTensors } from '../engine/state-io.js';
import type { Tensor } from '../engine/tensor.js';
import { SPECIAL_TOKENS, Vocab } from '../data/vocab.js';
import { buildEncoder } from '../nets/build.js';
import { wordDropoutIds } from '../nets/word-dropout.js';
import type { TextEncoder } from '../nets/encoder.js';
import { loadPretrained } from '../nets/pretrained.js';
import { TransformerEncoder } from '../nets/transformer.js';
import { evalBatchSize, parseConfig, TASKS, validateConfig, type TrainConfig } from '../config/run-config.js';
import { assertRunOutputDir } from './checkpoint.js';
import {
  dataParallel,
  defaultThreads,
  globalBatchSize,
  rankTrainingLoop,
  withRunLock,
} from './data-parallel.js';
import { EpochBatches } from './epoch-batches.js';
import { evaluateSharded, evaluatesInParts } from './sharded-evaluation.js';
import { loadModelDir, saveModelDir, WEIGHTS_FILE } from './model-dir.js';
import { lowerIsBetter } from '../metrics/direction.js';
import { formatMetrics, loadSplit, type Split } from './trainer.js';
import type { Evaluation, TrainingMode } from './training-hooks.js';
import { type TrainingRun, type TrainOptions } from './training-loop.js';
import { applyOverrides } from '../config/overrides.js';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { ClassificationTask, ClassifierModel } from '../tasks/classification.js';
import { givenVocabFile, readVocabSource } from '../tasks/dataset-options.js';
import { createTask, type AnyTask } from '../tasks/registry.js';
import { SequenceLabelerModel, SequenceLabelingTask } from '../tasks/sequence-labeling.js';
import { schemeConstraints } from '../tasks/tag-scheme.js';
import type { TaskModel } from '../tasks/task.js';

const taskEntrySchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only (it names a folder)'),
    task: z.enum(TASKS),
    train: z.string(),
    dev: z.string().optional(),
    test: z.string().optional(),
    /** This task's loss is multiplied by it. */
    weight: z.number().positive().default(1),
    /** Dataset fields for this task only (label_map, tag_scheme, numeric_features, …). */
    dataset: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const multitaskSchema = z
  .object({
    dataset: z.record(z.string(), z.unknown()).default({}),
    model: z.record(z.string(), z.unknown()),
    trainer: z.record(z.string(), z.unknown()),
    tasks: z.array(taskEntrySchema).min(1),
  })
  .strict();

export interface MultitaskEntry {
  name: string;
  weight: number;
  /** The task as an ordinary training config (validated, paths resolved). */
  config: TrainConfig;
}

export interface MultitaskConfig {
  tasks: MultitaskEntry[];
  /** Shared sections, as validated through the first task's config. */
  model: TrainConfig['model'];
  trainer: TrainConfig['trainer'];
  source: string;
}

/** Validates a multi-task config; each task's config is validated like a training config. */
export function parseMultitaskConfig(
  raw: unknown,
  source: string,
  baseDir = path.dirname(source),
): MultitaskConfig {
  const c = validateConfig(multitaskSchema, raw, source);
  if (typeof c.trainer.output_dir !== 'string')
    throw new UserError(`${source}: trainer.output_dir: required (a folder for the models and metrics)`);
  const names = new Set<string>();
  const tasks = c.tasks.map((t, i) => {
    if (names.has(t.name)) throw new UserError(`${source}: tasks.${i}.name: "${t.name}" is used twice`);
    names.add(t.name);
    const taskConfig = parseConfig(
      {
        task: t.task,
        dataset: { ...c.dataset, ...t.dataset, train: t.train, dev: t.dev, test: t.test },
        model: c.model,
        trainer: { ...c.trainer, output_dir: path.join(c.trainer.output_dir as string, 'tasks', t.name) },
      },
      `${source} (tasks.${i}, "${t.name}")`,
      baseDir,
    );
    if (taskConfig.dataset.streaming === true) {
      throw new UserError(
        `${source} (tasks.${i}, "${t.name}"): dataset.streaming: multi-task training reads every task's ` +
          'training file into memory; set it to false or "auto"',
      );
    }
    return { name: t.name, weight: t.weight, config: taskConfig };
  });
  const first = tasks[0].config;
  return {
    tasks,
    model: first.model,
    trainer: { ...first.trainer, output_dir: path.resolve(baseDir, c.trainer.output_dir as string) },
    source,
  };
}

/** Reads a multi-task config with `--set key.path=value` overrides applied. */
export function loadMultitaskConfig(file: string, overrides: readonly string[] = []): MultitaskConfig {
  const raw = readJsonFile(file, 'multitask config');
  return parseMultitaskConfig(applyOverrides(raw, overrides, file), file);
}

/** The head of `task` on the shared encoder: the same model class the task trains alone. */
export function headOn(task: AnyTask, encoder: TextEncoder): TaskModel<unknown> {
  if (task instanceof ClassificationTask) {
    const model = task.config.model;
    return new ClassifierModel(encoder, {
      numLabels: task.labels.names.length,
      siamese: task.kind === 'pair' && model.net !== 'transformer',
      numericSize: task.numeric.names.length,
      multiLabel: task.kind === 'multi_label',
      dropout: model.dropout,
      padId: task.codec.vocab.padId,
    }) as TaskModel<unknown>;
  }
  if (task instanceof SequenceLabelingTask) {
    const model = task.config.model;
    return new SequenceLabelerModel(encoder, {
      numTags: task.tags.size,
      head: model.head,
      dropout: model.dropout,
      padId: task.aligner.vocab.padId,
      constraints: task.chunked ? schemeConstraints(task.tags.names, task.scheme) : undefined,
    }) as TaskModel<unknown>;
  }
  throw new UserError(
    `multi-task training takes classification and sequence_labeling tasks, not ${task.name}`,
  );
}

interface LoadedTask {
  entry: MultitaskEntry;
  task: AnyTask;
  train: Split;
  dev?: Split;
  test?: Split;
  model: TaskModel<unknown>;
}

export interface MultitaskSummary {
  outputDir: string;
  steps: number;
  best: { step: number; score: number } | null;
  /** Per task: dev and test metrics of the best model (absent when the run was interrupted). */
  tasks: Record<string, { dev?: Record<string, number>; test?: Record<string, number>; modelDir: string }>;
  parameters: number;
  seconds: number;
  /** Set when the run stopped before its end (a signal or opts.signal); continue with resume. */
  interrupted?: boolean;
}

/** Fits every task alone, then writes the union of their vocabularies (specials first) to `file`. */
async function sharedVocabulary(entries: MultitaskEntry[], file: string): Promise<void> {
  const tokens: string[] = [...SPECIAL_TOKENS];
  const seen = new Set(tokens);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'alembic-multitask-'));
  try {
    for (const e of entries) {
      const task = createTask(e.config);
      task.fit(
        await task.read(e.config.dataset.train, { labelled: true }),
        await readVocabSource(task, e.config),
      );
      task.save(tmp);
      for (const t of Vocab.load(path.join(tmp, 'vocab.txt')).tokens) {
        if (!seen.has(t)) {
          seen.add(t);
          tokens.push(t);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  new Vocab(tokens, file).save(file);
}

/**
 * The task models on the shared encoder as one module, each named by its task: what the optimizer updates
 * and a checkpoint holds. A tensor the models share (the encoder's) is listed once, under the first task.
 */
class SharedEncoderModels extends ModuleDict {
  override *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    yield* unique(super.namedParameters(prefix));
  }

  override *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    yield* unique(super.namedBuffers(prefix));
  }
}

function* unique(entries: Iterable<[string, Tensor]>): Generator<[string, Tensor]> {
  const seen = new Set<Tensor>();
  for (const [name, t] of entries) {
    if (seen.has(t)) continue;
    seen.add(t);
    yield [name, t];
  }
}

/** Trains holding the lock on trainer.output_dir from before the data is read. */
export async function trainMultitask(
  mc: MultitaskConfig,
  opts: TrainOptions = {},
): Promise<MultitaskSummary> {
  return withRunLock(mc.trainer.output_dir, () => {
    assertRunOutputDir(mc.trainer.output_dir);
    return trainMultitaskLocked(mc, opts);
  });
}

async function trainMultitaskLocked(mc: MultitaskConfig, opts: TrainOptions): Promise<MultitaskSummary> {
  // In a data-parallel group (data-parallel.ts) rank 0 alone speaks and writes; each step's global batch
  // of one task is shared out between the ranks and the gradients averaged over it.
  const dp = dataParallel();
  const writes = !dp || dp.isMain;
  const log = !writes ? () => {} : (opts.log ?? ((l: string) => process.stderr.write(l + '\n')));
  const t = mc.trainer;
  setNumThreads(t.threads ?? defaultThreads());
  manualSeed(t.seed);
  const started = performance.now();
  mkdirSync(t.output_dir, { recursive: true });
  const loaded = await loadTasks(mc, writes, () => dp?.barrier());
  const models = new SharedEncoderModels();
  for (const l of loaded) models.add(l.entry.name, l.model);
  log(
    `alembic multitask: ${loaded.map((l) => `${l.entry.name} (${l.task.name}, ${l.train.examples.length} train)`).join(', ')}; ` +
      `shared ${mc.model.net} encoder`,
  );
  const { run, opts: runOpts } = await rankTrainingLoop(t, multitaskMode(mc, loaded, models), mc, {
    ...opts,
    log,
  });
  const summary: MultitaskSummary = {
    outputDir: run.out,
    steps: run.pos.step,
    best: run.pos.best && { step: run.pos.best.step, score: run.pos.best.value },
    tasks: {},
    parameters: models.numParameters(),
    seconds: 0,
  };
  if (run.interrupted) summary.interrupted = true;
  else summary.tasks = finishMultitask(loaded, run, runOpts.writesOutputs ?? true);
  summary.seconds = (performance.now() - started) / 1000;
  if (run.interrupted) return summary;
  if (runOpts.writesOutputs ?? true)
    writeFileSync(path.join(run.out, 'multitask.json'), JSON.stringify(summary, null, 2) + '\n');
  log(
    `best models: ${path.join(run.out, 'best')}/<task>` +
      (summary.best ? ` (step ${summary.best.step})` : ''),
  );
  opts.onEvent?.({ type: 'done', step: run.pos.step, interrupted: false, outputDir: run.out });
  return summary;
}

/** Reads and encodes every task's data over one vocabulary, and puts each task's head on one encoder. */
async function loadTasks(mc: MultitaskConfig, writes: boolean, barrier: () => void): Promise<LoadedTask[]> {
  const d0 = mc.tasks[0].config;
  if (!d0.dataset.tokenizer.vocab && !d0.model.pretrained_dir) {
    const vocabFile = path.join(mc.trainer.output_dir, 'vocab.txt');
    // One process writes the shared vocabulary; the others read it once it is there.
    if (writes) await sharedVocabulary(mc.tasks, vocabFile);
    barrier();
    for (const e of mc.tasks) e.config.dataset.tokenizer.vocab = vocabFile;
  }
  const read: Omit<LoadedTask, 'model'>[] = [];
  for (const entry of mc.tasks) {
    const { train, dev, test } = entry.config.dataset;
    const task = createTask(entry.config);
    const vocabSource = await readVocabSource(task, entry.config);
    read.push({
      entry,
      task,
      train: await loadSplit(task, train, true, (examples) => task.fit(examples, vocabSource)),
      dev: dev ? await loadSplit(task, dev, true) : undefined,
      test: test ? await loadSplit(task, test, true) : undefined,
    });
  }
  const vocab = Vocab.load(givenVocabFile(d0)!);
  const encoder = buildEncoder(
    mc.model,
    vocab.size,
    vocab.padId,
    wordDropoutIds(vocab, d0.dataset.tokenizer.type),
  );
  if (mc.model.pretrained_dir && encoder instanceof TransformerEncoder)
    loadPretrained(encoder, mc.model.pretrained_dir, { tokenizer: d0.dataset.tokenizer });
  return read.map((r) => ({ ...r, model: headOn(r.task, encoder) }));
}

/**
 * Several tasks in the training loop: batches of every task interleaved (each weighted by its task), the
 * mean of the tasks' dev metrics as the score, best/<task>/ a model directory per task.
 */
function multitaskMode(mc: MultitaskConfig, loaded: LoadedTask[], models: SharedEncoderModels): TrainingMode {
  const t = mc.trainer;
  const evalBatch = evalBatchSize(t);
  const byName = new Map(loaded.map((l) => [l.entry.name, l]));
  const splits = loaded.map((l) => ({
    features: l.train.features,
    task: l.entry.name,
    weight: l.entry.weight,
  }));
  const withDev = loaded.filter((l) => l.dev);
  const evaluate = (): Evaluation => {
    const lines: Record<string, unknown>[] = [];
    const metrics: Record<string, number> = {};
    const scores: number[] = [];
    const text: string[] = [];
    for (const l of withDev) {
      const r = evaluateSharded(l.task, l.model, l.dev!.examples, l.dev!.features, evalBatch);
      lines.push({ task: l.entry.name, ...r.metrics });
      for (const [k, v] of Object.entries(r.metrics)) metrics[`${l.entry.name}.${k}`] = v;
      const metric = l.task.defaultMetric;
      scores.push(lowerIsBetter(metric) ? -r.metrics[metric] : r.metrics[metric]);
      text.push(`${l.entry.name}: ${formatMetrics(r.metrics)}`);
    }
    const value = scores.reduce((s, x) => s + x, 0) / scores.length;
    return {
      lines,
      metrics,
      metric: 'the mean dev metric',
      value,
      lowerIsBetter: false,
      text: text.join('; '),
    };
  };
  return {
    trained: models,
    model: models,
    // In a data-parallel group a step draws one global batch, which the ranks share out (data-parallel.ts).
    batches: new EpochBatches(splits, globalBatchSize(t.batch_size), t.seed),
    loss: (batch) => byName.get(batch.task!)!.model.loss(batch.features),
    lossUnits: (batch) => {
      const model = byName.get(batch.task!)!.model;
      return model.lossUnits ? model.lossUnits(batch.features) : batch.features.length;
    },
    evaluate: withDev.length > 0 ? evaluate : undefined,
    saveBest: (step) => {
      for (const l of loaded)
        saveModelDir(path.join(t.output_dir, 'best', l.entry.name), l.entry.config, l.task, l.model, {
          step,
          multitask: mc.source,
        });
    },
    writeCheckpointModel: (dir) => {
      mkdirSync(dir, { recursive: true });
      saveTensors(path.join(dir, WEIGHTS_FILE), models.stateDict(), { format: 'alembic' });
    },
  };
}

/**
 * Each task's best model scored on its dev and test data (test lines added to metrics.jsonl). Every rank
 * of a group calls it: a rank that writes nothing takes part only in the evaluations shared out over the
 * ranks (sharded-evaluation.ts).
 */
function finishMultitask(loaded: LoadedTask[], run: TrainingRun, writes: boolean): MultitaskSummary['tasks'] {
  const evalBatch = evalBatchSize(run.trainer);
  const tasks: MultitaskSummary['tasks'] = {};
  for (const l of loaded) {
    const dir = path.join(run.out, 'best', l.entry.name);
    const m = loadModelDir(dir);
    try {
      const evalOn = (s?: Split) =>
        s && (writes || evaluatesInParts(m.task))
          ? evaluateSharded(
              m.task,
              m.model,
              s.examples,
              s.examples.map((e) => m.task.encode(e)),
              evalBatch,
            ).metrics
          : undefined;
      const result = { dev: evalOn(l.dev), test: evalOn(l.test), modelDir: dir };
      if (result.test)
        run.metrics.record({
          type: 'test',
          step: run.pos.best?.step ?? run.pos.step,
          task: l.entry.name,
          ...result.test,
        });
      tasks[l.entry.name] = result;
    } finally {
      m.model.dispose();
    }
  }
  return tasks;
}
