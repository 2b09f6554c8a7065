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
 * Outputs under trainer.output_dir: metrics.jsonl (train lines carry the task, eval lines one per
 * task), vocab.txt, and best/<task>/ — for each task a standalone model directory (shared encoder + its
 * head) that `alembic predict/eval/export` use like any other. The best step is the one with the
 * highest mean of the tasks' default metrics on dev.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { manualSeed } from '../engine/create.js';
import type { Module } from '../engine/nn/module.js';
import { AdamW } from '../engine/optim/adamw.js';
import { setNumThreads } from '../engine/runtime.js';
import type { Tensor } from '../engine/tensor.js';
import { SPECIAL_TOKENS, Vocab } from '../data/vocab.js';
import { buildEncoder } from '../nets/build.js';
import { wordDropoutIds } from '../nets/word-dropout.js';
import type { TextEncoder } from '../nets/encoder.js';
import { loadPretrained } from '../nets/pretrained.js';
import { TransformerEncoder } from '../nets/transformer.js';
import { batchIndices } from '../nets/batching.js';
import { evalBatchSize, parseConfig, TASKS, validateConfig, type TrainConfig } from '../config/run-config.js';
import { loadModelDir, saveModelDir } from './model-dir.js';
import { lowerIsBetter } from '../metrics/direction.js';
import { optimizerStep, type StepPlan } from './optimizer-step.js';
import { formatMetrics } from './trainer.js';
import { takesNoWeightDecay } from './training-loop.js';
import { dataParallel, defaultThreads, globalBatchSize, withRunLock } from './data-parallel.js';
import { applyOverrides } from '../config/overrides.js';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import { epochRng } from '../util/rng.js';
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

interface Split {
  examples: unknown[];
  features: unknown[];
}

interface LoadedTask {
  entry: MultitaskEntry;
  task: AnyTask;
  train: Split;
  dev?: Split;
  test?: Split;
  model?: TaskModel<unknown>;
}

export interface MultitaskSummary {
  outputDir: string;
  steps: number;
  best: { step: number; score: number } | null;
  /** Per task: dev and test metrics of the best model. */
  tasks: Record<string, { dev?: Record<string, number>; test?: Record<string, number>; modelDir: string }>;
  parameters: number;
  seconds: number;
}

async function split(task: AnyTask, file: string | undefined): Promise<Split | undefined> {
  if (!file) return undefined;
  const examples = await task.read(file, { labelled: true });
  return { examples, features: examples.map((e) => task.encode(e)) };
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

/** Unique parameters of several models that share modules, split for weight decay as the trainer does. */
function parameterGroups(models: Module[], weightDecay: number) {
  const seen = new Set<Tensor>();
  const decay: Tensor[] = [];
  const noDecay: Tensor[] = [];
  for (const m of models) {
    for (const [name, p] of m.namedParameters()) {
      if (seen.has(p)) continue;
      seen.add(p);
      if (takesNoWeightDecay(name, p)) noDecay.push(p);
      else decay.push(p);
    }
  }
  return {
    all: [...seen],
    groups: [
      { params: decay, weightDecay },
      { params: noDecay, weightDecay: 0 },
    ],
  };
}

/** Trains holding the lock on trainer.output_dir from before the data is read. */
export async function trainMultitask(
  mc: MultitaskConfig,
  opts: { log?: (line: string) => void } = {},
): Promise<MultitaskSummary> {
  return withRunLock(mc.trainer.output_dir, () => trainMultitaskLocked(mc, opts));
}

async function trainMultitaskLocked(
  mc: MultitaskConfig,
  opts: { log?: (line: string) => void },
): Promise<MultitaskSummary> {
  // In a data-parallel group (data-parallel.ts) rank 0 alone speaks and writes; each step's global batch
  // of one task is shared out between the ranks and the gradients averaged over it.
  const dp = dataParallel();
  const writes = !dp || dp.isMain;
  const log = !writes ? () => {} : (opts.log ?? ((l: string) => process.stderr.write(l + '\n')));
  const t = mc.trainer;
  setNumThreads(t.threads ?? defaultThreads());
  manualSeed(t.seed);
  const started = performance.now();
  const out = t.output_dir;
  mkdirSync(out, { recursive: true });

  // One vocabulary for the shared encoder.
  const d0 = mc.tasks[0].config;
  if (!d0.dataset.tokenizer.vocab && !d0.model.pretrained_dir) {
    const vocabFile = path.join(out, 'vocab.txt');
    if (writes) await sharedVocabulary(mc.tasks, vocabFile);
    dp?.barrier();
    for (const e of mc.tasks) e.config.dataset.tokenizer.vocab = vocabFile;
  }
  const loaded: LoadedTask[] = [];
  for (const entry of mc.tasks) {
    const task = createTask(entry.config);
    const examples = await task.read(entry.config.dataset.train, { labelled: true });
    task.fit(examples, await readVocabSource(task, entry.config));
    loaded.push({
      entry,
      task,
      train: { examples, features: examples.map((e) => task.encode(e)) },
      dev: await split(task, entry.config.dataset.dev),
      test: await split(task, entry.config.dataset.test),
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
  for (const l of loaded) l.model = headOn(l.task, encoder);
  const models = loaded.map((l) => l.model!);
  const { all: params, groups } = parameterGroups(models, t.weight_decay);
  const optimizer = new AdamW(groups, { lr: t.learning_rate, weightDecay: t.weight_decay });
  const parameters = params.reduce((s, p) => s + p.numel, 0);
  log(
    `alembic multitask: ${loaded.map((l) => `${l.entry.name} (${l.task.name}, ${l.train.examples.length} train)`).join(', ')}; ` +
      `shared ${mc.model.net} encoder; ${parameters.toLocaleString('en')} parameters`,
  );

  const metricsFile = path.join(out, 'metrics.jsonl');
  if (writes) writeFileSync(metricsFile, '');
  const record = (entry: Record<string, unknown>) => {
    if (writes) appendFileSync(metricsFile, JSON.stringify(entry) + '\n');
  };
  const globalBatch = globalBatchSize(t.batch_size);
  const share = dp?.start(params);
  let counts = { local: 0, global: 0 };
  const batchesPerEpoch = loaded.reduce((s, l) => s + Math.ceil(l.train.features.length / globalBatch), 0);
  const totalSteps = t.max_steps > 0 ? t.max_steps : t.epochs * batchesPerEpoch;
  const warmupSteps = Math.round(t.warmup_ratio * totalSteps);
  const stepPlan: StepPlan = {
    trainer: t,
    optimizer,
    params,
    warmupSteps,
    totalSteps,
    afterBackward: share && ((_p, loss) => share(counts.local, counts.global, loss)),
  };
  const evalBatch = evalBatchSize(t);

  let step = 0;
  // Held in an object: closures update it, which flow analysis of a plain `let` would not see.
  const progress: { best: { step: number; score: number } | null } = { best: null };
  let evalsWithoutImprovement = 0;
  let stopped = false;
  const bestDir = path.join(out, 'best');
  const evaluateAll = () => {
    const scores: number[] = [];
    for (const l of loaded) {
      if (!l.dev) continue;
      const r = l.task.evaluate(l.model!, l.dev.examples, l.dev.features, evalBatch);
      record({ type: 'eval', step, task: l.entry.name, ...r.metrics });
      const metric = l.task.defaultMetric;
      scores.push(lowerIsBetter(metric) ? -r.metrics[metric] : r.metrics[metric]);
      log(`eval step ${step} ${l.entry.name}: ${formatMetrics(r.metrics)}`);
    }
    return scores.length ? scores.reduce((s, x) => s + x, 0) / scores.length : undefined;
  };
  const saveAll = () => {
    if (!writes) return;
    for (const l of loaded)
      saveModelDir(path.join(bestDir, l.entry.name), l.entry.config, l.task, l.model!, {
        step,
        multitask: mc.source,
      });
  };
  const maybeSaveBest = () => {
    const score = evaluateAll();
    if (score === undefined) return;
    if (!progress.best || score > progress.best.score) {
      progress.best = { step, score };
      evalsWithoutImprovement = 0;
      saveAll();
    } else if (t.early_stopping && ++evalsWithoutImprovement >= t.early_stopping.patience) {
      stopped = true;
      log(`early stopping: the mean dev metric has not improved for ${evalsWithoutImprovement} evaluations`);
    }
  };

  let lastEval = -1;
  for (let epoch = 0; step < totalSteps && !stopped; epoch++) {
    const rng = epochRng(t.seed, epoch);
    const schedule = loaded.flatMap((l, k) =>
      batchIndices(l.train.features.length, globalBatch, rng).map((b) => ({ k, b })),
    );
    rng.shuffle(schedule);
    for (const { k, b } of schedule) {
      const l = loaded[k];
      const mine = dp ? b.slice(dp.rank * t.batch_size, (dp.rank + 1) * t.batch_size) : b;
      counts = { local: mine.length, global: b.length };
      const loss = optimizerStep(
        stepPlan,
        step,
        () => {
          // A rank left without examples by a short last batch still joins the all-reduce, with no gradient.
          if (mine.length === 0) return 0;
          const raw = l.model!.loss(mine.map((i) => l.train.features[i]));
          raw.mul(l.entry.weight).backward();
          return raw.item();
        },
        `${l.entry.name} loss`,
      );
      step++;
      if (step % t.train_log_step === 0)
        record({
          type: 'train',
          step,
          epoch: epoch + 1,
          task: l.entry.name,
          loss,
          lr: optimizer.learningRate,
        });
      if (step % t.eval_step === 0) {
        maybeSaveBest();
        lastEval = step;
      }
      if (stopped || step >= totalSteps) break;
    }
  }
  if (lastEval !== step) maybeSaveBest();
  const best = progress.best;
  if (!best) saveAll(); // no dev data: the final model

  const summary: MultitaskSummary = {
    outputDir: out,
    steps: step,
    best,
    tasks: {},
    parameters,
    seconds: 0,
  };
  // Rank 0 has written best/; the other ranks are done.
  dp?.barrier();
  if (!writes) return summary;
  for (const l of loaded) {
    const dir = path.join(bestDir, l.entry.name);
    const m = loadModelDir(dir);
    try {
      const evalOn = (s?: Split) =>
        s
          ? m.task.evaluate(
              m.model,
              s.examples,
              s.examples.map((e) => m.task.encode(e)),
              evalBatch,
            ).metrics
          : undefined;
      const result = { dev: evalOn(l.dev), test: evalOn(l.test), modelDir: dir };
      if (result.test) record({ type: 'test', step: best?.step ?? step, task: l.entry.name, ...result.test });
      summary.tasks[l.entry.name] = result;
    } finally {
      m.model.dispose();
    }
  }
  summary.seconds = (performance.now() - started) / 1000;
  writeFileSync(path.join(out, 'multitask.json'), JSON.stringify(summary, null, 2) + '\n');
  log(`best models: ${bestDir}/<task>` + (best ? ` (step ${best.step})` : ''));
  return summary;
}
