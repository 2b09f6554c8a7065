/**
 * `alembic distill`: the ERNIE-Tiny recipe as one run, each stage an ordinary training run in its own
 * folder under output_dir (metrics.jsonl, checkpoints/, best/, report.html):
 *
 *   teacher/        FT  — the teacher fine-tuned on the task (or an already fine-tuned model directory)
 *   ged/            GED — relation distillation on unlabelled general text (no labels used)
 *   td1/            TD1 — relation distillation of the student's last layer on the task's texts
 *   td2/            TD2 — soft labels from the teacher + gold labels
 *   student_alone/  the same student trained on the gold labels alone (the baseline)
 *   student/        the distilled student: a normal alembic model directory
 *   distill_report.json, distill_report.html
 *
 * Each student stage starts from the previous stage's best student. A finished stage is not run again;
 * an interrupted one continues from its newest checkpoint (see ../step-store.ts).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed } from '../../engine/create.js';
import { setNumThreads } from '../../engine/runtime.js';
import { readLines } from '../../data/line-reader.js';
import { readBertConfig } from '../../nets/checkpoint-names.js';
import { createTask, type AnyTask } from '../../tasks/registry.js';
import type { EvalResult, TaskModel } from '../../tasks/task.js';
import { evalBatchSize, type TrainConfig, type TrainerConfig } from '../../config/run-config.js';
import {
  loadModelDir,
  MODEL_DIR,
  MODEL_FILE,
  readManifest,
  WEIGHTS_FILE,
  type LoadedModel,
  type ModelManifest,
} from '../../train/model-dir.js';
import { latestCheckpoint, TRAINING_RUN } from '../../train/checkpoint.js';
import { runTraining, train, type Split, type TrainOptions, type TrainSummary } from '../../train/trainer.js';
import { Interrupted, UserError } from '../../util/errors.js';
import { removeDir, replaceDir, type DirKind } from '../../util/replace-dir.js';
import { dataParallel, defaultThreads, isMainRank, withRunLock } from '../../train/data-parallel.js';
import { distillAdapter, type DistillAdapter } from './adapter.js';
import { ALONE, type DistillConfig, type Stage, type TrainedStage } from './model-distill-config.js';
import {
  meanObjectiveLoss,
  PredictionObjective,
  RelationObjective,
  type RelationSettings,
} from './objective.js';
import {
  compareModels,
  headlineMetric,
  measureModels,
  writeDistillReport,
  type DistillReport,
  type ModelToReport,
  type StageEntry,
} from './model-distill-report.js';
import { NEAR_UNIFORM, relationProfile } from './relation-profile.js';
import { contentStamp, hashValue, StepStore } from '../step-store.js';
import {
  initialiseStudent,
  planStudent,
  shapeOfConfig,
  studentTrainConfig,
  type StudentPlan,
} from './student.js';

export interface DistillOptions {
  quiet?: boolean;
  log?: (line: string) => void;
  /** Aborting stops the stage that is training after its current step, as Ctrl-C does. */
  signal?: AbortSignal;
  /** Called after each optimizer step of every stage that trains. */
  onStep?: (step: number) => void;
  /** Every stage's training progress events. */
  onEvent?: TrainOptions['onEvent'];
}

export interface DistillResult {
  outputDir: string;
  /** output_dir/student (absent when interrupted). */
  studentDir?: string;
  report?: DistillReport;
  stages: StageEntry[];
  /** The stage that was stopped before its end; run the same command again to continue. */
  interrupted?: TrainedStage;
}

const STUDENT_STAGES: readonly Stage[] = ['GED', 'TD1', 'TD2'];
const RELATION_METRIC = 'distill_loss';
/** Examples the teacher's relations are profiled on before GED/TD1. */
const PROFILE_EXAMPLES = 64;

interface Context {
  config: DistillConfig;
  opts: DistillOptions;
  log: (line: string) => void;
  stages: StageEntry[];
}

/** Distils holding the lock on output_dir for the whole pipeline (each stage's training locks its folder too). */
export async function distill(config: DistillConfig, opts: DistillOptions = {}): Promise<DistillResult> {
  return withRunLock(config.output_dir, () => distillLocked(config, opts));
}

async function distillLocked(config: DistillConfig, opts: DistillOptions): Promise<DistillResult> {
  // In a data-parallel group every rank runs the pipeline and trains each stage together; rank 0 alone
  // speaks and writes (stage records, the student, the report).
  const writes = isMainRank();
  const log = !writes ? () => {} : (opts.log ?? ((l: string) => process.stderr.write(l + '\n')));
  const ctx: Context = { config, opts, log, stages: [] };
  const out = config.output_dir;
  // A missing or wrong teacher is the user's to fix before anything is written.
  if (config.teacher.model_dir) readManifest(config.teacher.model_dir);
  if (writes) {
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'distill-config.json'), JSON.stringify(config.raw, null, 2) + '\n');
  }
  setNumThreads(config.trainers.TD2.threads ?? defaultThreads());
  try {
    return await runPipeline(ctx);
  } catch (e) {
    // A stage that stopped early is a result (which stage), not an error.
    if (!(e instanceof Interrupted)) throw e;
    log(`stopped during ${e.step}; run the same command again to continue from its last checkpoint`);
    return { outputDir: out, stages: ctx.stages, interrupted: e.step as TrainedStage };
  }
}

async function runPipeline(ctx: Context): Promise<DistillResult> {
  const { config, log } = ctx;
  const teacherRef = await teacherStage(ctx);
  const teacher = loadModelDir(teacherRef.dir);
  try {
    checkTeacher(config, teacher);
    const plan = planStudent(config.student, shapeOfConfig(teacher.config));
    for (const w of plan.warnings) log(`warning: ${w}`);
    const studentConfig = (trainer: TrainerConfig) =>
      studentTrainConfig(teacher.config, plan.shape, config.student.dropout, config.dataset, trainer);
    // The student reads with the teacher's tokenizer, vocabulary and labels: both see the same ids.
    const task = createTask(studentConfig(config.trainers.TD2), {
      dir: teacherRef.dir,
      state: teacher.manifest.state,
    });
    const adapter = distillAdapter(task);
    let relation = relationSettings(config, plan, adapter.encoder(teacher.model).layers.length, teacher);
    const data = await loadTaskData(task, config);
    log(
      `distill: ${config.task}, teacher ${describeShape(shapeOfConfig(teacher.config))} → student ` +
        `${describeShape(plan.shape)}; ${data.train.examples.length} train` +
        (data.dev ? `, ${data.dev.examples.length} dev` : '') +
        (data.test ? `, ${data.test.examples.length} test` : '') +
        ' examples',
    );
    let profile: number[] | undefined;
    if (config.stages.some((st) => st === 'GED' || st === 'TD1')) {
      ({ profile, relation } = checkTeacherRelations(ctx, teacher.model, adapter, relation, data, {
        auto: config.relation.teacher_layer === 'auto',
      }));
    }

    const env: StudentEnv = {
      teacher,
      teacherFp: teacherRef.fp,
      task,
      adapter,
      data,
      relation,
      studentConfig,
      initFp: hashValue({ teacher: teacherRef.fp, plan, dropout: config.student.dropout }),
      freshStudent: () => {
        manualSeed(config.trainers.TD2.seed);
        const model = task.buildModel() as TaskModel<unknown>;
        return { model, how: initialiseStudent(model, teacher.model, plan, adapter) };
      },
    };
    let previous: { dir: string; fp: string } | undefined;
    for (const stage of STUDENT_STAGES.filter((s) => config.stages.includes(s))) {
      previous = await studentStage(ctx, env, stage, previous);
    }
    const studentDir = path.join(config.output_dir, 'student');
    if (isMainRank()) publishStudent(previous!.dir, studentDir, config, teacherRef.dir);
    const aloneDir = config.compare.student_alone ? await aloneStage(ctx, env) : undefined;

    if (!isMainRank()) return { outputDir: config.output_dir, studentDir, stages: ctx.stages };
    const report = buildReport(ctx, {
      teacher,
      teacherDir: teacherRef.dir,
      studentDir,
      aloneDir,
      data,
      plan,
      relation,
      profile,
    });
    writeDistillReport(config.output_dir, report);
    log(`distilled student: ${studentDir}`);
    log(`report: ${path.join(config.output_dir, 'distill_report.html')}`);
    return { outputDir: config.output_dir, studentDir, report, stages: ctx.stages };
  } finally {
    teacher.model.dispose();
  }
}

// ------------------------------------------------------------------ stages

/** What every student stage shares. */
interface StudentEnv {
  teacher: LoadedModel;
  teacherFp: string;
  /** The student's task: the teacher's tokenizer, vocabulary and labels. */
  task: AnyTask;
  adapter: DistillAdapter;
  data: TaskData;
  relation: RelationSettings;
  studentConfig: (trainer: TrainerConfig) => TrainConfig;
  /** Fingerprint of the student's starting point (teacher, shape, initialisation). */
  initFp: string;
  freshStudent: () => { model: TaskModel<unknown>; how: string };
}

/** GED, TD1 or TD2, starting from the previous stage's best student (or a fresh one). */
async function studentStage(
  ctx: Context,
  env: StudentEnv,
  stage: Stage,
  previous: { dir: string; fp: string } | undefined,
): Promise<{ dir: string; fp: string }> {
  const { config } = ctx;
  const trainer = stageTrainer(config.trainers[stage], stage);
  const relationStage = stage !== 'TD2';
  const fp = hashValue({
    teacher: env.teacherFp,
    from: previous?.fp ?? env.initFp,
    trainer: trainerSettings(trainer),
    relation: relationStage ? env.relation : undefined,
    prediction: relationStage ? undefined : config.prediction,
    data:
      stage === 'GED' ? [contentStamp(config.general_data), config.general_data_limit] : dataStamps(config),
    dev: contentStamp(config.dataset.dev),
  });
  await runStage(ctx, stage, fp, async (resume) => {
    const start = previous ? reloadStudent(previous.dir) : env.freshStudent();
    manualSeed(trainer.seed);
    const teacher = env.teacher.model;
    const objective = relationStage
      ? new RelationObjective(start.model, teacher, env.adapter, env.relation)
      : new PredictionObjective(start.model, teacher, env.adapter, config.prediction);
    const summary = await runTraining(
      {
        config: env.studentConfig(trainer),
        task: env.task,
        model: start.model,
        objective,
        train: stage === 'GED' ? await loadGeneralData(env.adapter, config) : env.data.train,
        dev: env.data.dev,
        test: relationStage ? undefined : env.data.test,
        evaluate: relationStage ? relationEvaluator(teacher, env.adapter, env.relation) : undefined,
      },
      { resume, ...trainOptions(ctx) },
    );
    start.model.dispose();
    return { summary, info: { student_init: start.how } };
  });
  return { dir: path.join(config.trainers[stage].output_dir, 'best'), fp };
}

/** The baseline: the same fresh student trained on the gold labels alone. Returns its best model. */
async function aloneStage(ctx: Context, env: StudentEnv): Promise<string> {
  const trainer = ctx.config.trainers[ALONE];
  const fp = hashValue({
    from: env.initFp,
    trainer: trainerSettings(trainer),
    data: dataStamps(ctx.config),
  });
  await runStage(ctx, ALONE, fp, async (resume) => {
    const start = env.freshStudent();
    manualSeed(trainer.seed);
    const { train, dev, test } = env.data;
    const summary = await runTraining(
      { config: env.studentConfig(trainer), task: env.task, model: start.model, train, dev, test },
      { resume, ...trainOptions(ctx) },
    );
    start.model.dispose();
    return { summary, info: { student_init: start.how } };
  });
  return path.join(trainer.output_dir, 'best');
}

/** The record of each stage's run, `distill-stage.json` in the stage's folder. */
const STAGE_FILE = 'distill-stage.json';

/** A stage folder: its record, or a training run's files; the only kind of folder a stage clears. */
const STAGE_DIR: DirKind = {
  name: 'a distillation stage folder',
  is: (dir) => existsSync(path.join(dir, STAGE_FILE)) || TRAINING_RUN.is(dir),
};

interface StageResult {
  summary: TrainSummary;
  info?: Record<string, unknown>;
}

/**
 * Runs a stage unless it finished before with the same fingerprint (and its best/ is there); continues
 * one that started with the same fingerprint from its newest checkpoint; otherwise clears the stage
 * folder and runs afresh. Records the stage either way.
 */
async function runStage(
  ctx: Context,
  stage: TrainedStage,
  fp: string,
  run: (resume: boolean) => Promise<StageResult>,
): Promise<void> {
  const dir = ctx.config.trainers[stage].output_dir;
  const store = new StepStore(dir, () => path.join(dir, STAGE_FILE));
  const decision = store.decide<StageResult>(stage, fp);
  // Every rank decides on the same records before rank 0 changes them.
  const group = dataParallel();
  group?.barrier();
  const writes = !group || group.isMain;
  if (decision.action === 'skip' && existsSync(path.join(dir, 'best'))) {
    ctx.log(`${stage}: finished in an earlier run (${dir}); not run again`);
    const { summary: s, info } = decision.result;
    ctx.stages.push({ stage, dir, steps: s.steps, seconds: s.seconds, skipped: true, dev: s.dev, info });
    return;
  }
  const resume = decision.action === 'resume' && latestCheckpoint(dir) !== null;
  if (!resume) {
    if (decision.action === 'run' && decision.changed) {
      ctx.log(`${stage}: its settings or inputs changed; running it again`);
    }
    if (writes) removeDir(dir, STAGE_DIR);
  }
  ctx.log(`${stage}: ${resume ? 'continuing from the last checkpoint' : 'starting'} (${dir})`);
  if (writes) store.write(stage, fp, 'started');
  group?.barrier();
  const { summary, info } = await run(resume);
  if (summary.interrupted) throw new Interrupted(stage);
  if (writes) store.write<StageResult>(stage, fp, 'done', { summary, info });
  ctx.stages.push({
    stage,
    dir,
    steps: summary.steps,
    seconds: summary.seconds,
    skipped: false,
    dev: summary.dev,
    info,
  });
}

/** What every stage's training gets from the caller's options. */
function trainOptions(ctx: Context): TrainOptions {
  const { quiet, signal, onStep, onEvent } = ctx.opts;
  return { quiet, log: ctx.log, signal, onStep, onEvent };
}

/** FT: fine-tunes the teacher, or takes the given fine-tuned teacher directory. */
async function teacherStage(ctx: Context): Promise<{ dir: string; fp: string }> {
  const { config, log } = ctx;
  if (config.teacher.model_dir) {
    const dir = config.teacher.model_dir;
    if (config.stages.includes('FT')) log(`FT: using the fine-tuned teacher in ${dir}`);
    return {
      dir,
      fp: hashValue([contentStamp(path.join(dir, MODEL_FILE)), contentStamp(path.join(dir, WEIGHTS_FILE))]),
    };
  }
  const ftConfig = teacherTrainConfig(config);
  const fp = hashValue({
    model: ftConfig.model,
    dataset: ftConfig.dataset,
    trainer: trainerSettings(ftConfig.trainer),
    data: dataStamps(config),
    pretrained: contentStamp(ftConfig.model.pretrained_dir),
  });
  await runStage(ctx, 'FT', fp, async (resume) => ({
    summary: await train(ftConfig, { resume, ...trainOptions(ctx) }),
  }));
  return { dir: path.join(config.trainers.FT.output_dir, 'best'), fp };
}

/**
 * The FT training config. A teacher fine-tuned from a pretrained checkpoint takes the checkpoint's shape;
 * it is written into the model fields too, since its model directory is rebuilt from those alone.
 */
export function teacherTrainConfig(config: DistillConfig): TrainConfig {
  const model = { ...config.teacher.model! };
  if (model.pretrained_dir) {
    const c = readBertConfig(model.pretrained_dir);
    Object.assign(model, {
      num_layers: c.numHiddenLayers,
      hidden_size: c.hiddenSize,
      num_heads: c.numAttentionHeads,
      ffn_size: c.intermediateSize,
      max_positions: c.maxPositionEmbeddings,
    });
  }
  return { task: config.task, dataset: config.dataset, model, trainer: config.trainers.FT };
}

function checkTeacher(config: DistillConfig, teacher: LoadedModel): void {
  if (teacher.config.task !== config.task)
    throw new UserError(
      `teacher.model_dir: ${teacher.dir} was trained for ${teacher.config.task}, not ${config.task}`,
    );
  if (teacher.config.model.net !== 'transformer')
    throw new UserError(
      `teacher: ${teacher.dir} is a ${teacher.config.model.net} model; distillation needs a Transformer`,
    );
}

/** Relation and early-stopping stages score the student by its distillation loss on dev (lower is better). */
function stageTrainer(trainer: TrainerConfig, stage: Stage): TrainerConfig {
  if (stage === 'TD2') return trainer;
  return {
    ...trainer,
    metric: RELATION_METRIC,
    early_stopping: trainer.early_stopping
      ? { ...trainer.early_stopping, metric: RELATION_METRIC }
      : undefined,
  };
}

function relationSettings(
  config: DistillConfig,
  plan: StudentPlan,
  teacherLayers: number,
  teacher: LoadedModel,
): RelationSettings {
  const heads = config.relation.heads ?? plan.shape.heads;
  const teacherHidden = teacher.config.model.hidden_size;
  for (const [who, hidden] of [
    ['student', plan.shape.hidden],
    ['teacher', teacherHidden],
  ] as const) {
    if (hidden % heads !== 0)
      throw new UserError(
        `relation.heads: ${heads} does not divide the ${who}'s hidden size ${hidden}; ` +
          `choose a divisor of both ${plan.shape.hidden} and ${teacherHidden}`,
      );
  }
  // "auto" is decided from the teacher's relation profile; the last layer stands in until then.
  const layer = config.relation.teacher_layer === 'auto' ? -1 : config.relation.teacher_layer;
  const index = layer < 0 ? teacherLayers + layer : layer - 1;
  if (layer === 0 || index < 0 || index >= teacherLayers)
    throw new UserError(
      `relation.teacher_layer: ${layer} is not a layer of the ${teacherLayers}-layer teacher`,
    );
  return { heads, teacherLayer: index, kinds: config.relation.kinds };
}

/**
 * Measures how much the teacher's relations say, layer by layer (see relation-profile.ts): with `auto`
 * the layer with the most structure is chosen, otherwise a nearly uniform chosen layer is warned about.
 */
function checkTeacherRelations(
  ctx: Context,
  teacher: TaskModel<unknown>,
  adapter: DistillAdapter,
  relation: RelationSettings,
  data: TaskData,
  { auto }: { auto: boolean },
): { profile: number[]; relation: RelationSettings } {
  const sample = (data.dev ?? data.train).features.slice(0, PROFILE_EXAMPLES);
  const profile = relationProfile(teacher, adapter, sample, relation.heads, relation.kinds);
  const best = profile.indexOf(Math.min(...profile));
  const chosen = auto ? best : relation.teacherLayer;
  ctx.log(
    `teacher relation entropy / uniform, by layer: ${profile.map((v, i) => `${i + 1}: ${v.toFixed(3)}`).join(', ')}` +
      ` (distilling layer ${chosen + 1})`,
  );
  if (profile[chosen] >= NEAR_UNIFORM) {
    ctx.log(
      `warning: the teacher's layer ${chosen + 1} relates tokens almost uniformly (${profile[chosen].toFixed(3)} of ` +
        'the uniform entropy): distilling it teaches the student to blur its tokens together. ' +
        (best !== chosen
          ? `Layer ${best + 1} has the most structure (relation.teacher_layer: ${best + 1}).`
          : ''),
    );
  }
  return { profile, relation: { ...relation, teacherLayer: chosen } };
}

function relationEvaluator(
  teacher: TaskModel<unknown>,
  adapter: DistillAdapter,
  settings: RelationSettings,
): (model: TaskModel<unknown>, split: Split, batchSize: number) => EvalResult {
  return (model, split, batchSize) => ({
    metrics: {
      [RELATION_METRIC]: meanObjectiveLoss(
        new RelationObjective(model, teacher, adapter, settings),
        split.features,
        batchSize,
      ),
    },
  });
}

function reloadStudent(dir: string): { model: TaskModel<unknown>; how: string } {
  const m = loadModelDir(dir);
  m.model.train();
  return { model: m.model, how: `previous stage's student (${dir})` };
}

/** output_dir/student: the last stage's best student, its manifest noting how it was made. */
function publishStudent(from: string, to: string, config: DistillConfig, teacherDir: string): void {
  replaceDir(to, MODEL_DIR, (tmp) => {
    cpSync(from, tmp, { recursive: true });
    const file = path.join(tmp, MODEL_FILE);
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as ModelManifest;
    manifest.info = { ...manifest.info, distilled: { stages: config.stages, teacher: teacherDir } };
    writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
  });
}

// ------------------------------------------------------------------ data

interface TaskData {
  train: Split;
  dev?: Split;
  test?: Split;
}

async function loadTaskData(task: AnyTask, config: DistillConfig): Promise<TaskData> {
  const read = async (file: string | undefined): Promise<Split | undefined> => {
    if (!file) return undefined;
    const examples = await task.read(file, { labelled: true });
    return { examples, features: examples.map((e) => task.encode(e)) };
  };
  return {
    train: (await read(config.dataset.train))!,
    dev: await read(config.dataset.dev),
    test: await read(config.dataset.test),
  };
}

/** GED's data: the general text, one passage per line, encoded like the task's texts. */
async function loadGeneralData(adapter: DistillAdapter, config: DistillConfig): Promise<Split> {
  const file = config.general_data!;
  const limit = config.general_data_limit;
  const examples: string[] = [];
  const features: unknown[] = [];
  for await (const line of readLines(file)) {
    const f = adapter.unlabelled(line.text);
    if (f === undefined)
      throw new UserError(`${file}:${line.number}: general_data: the line has no token to learn from`);
    examples.push(line.text);
    features.push(f);
    if (limit > 0 && examples.length >= limit) break;
  }
  if (examples.length === 0) throw new UserError(`${file}: general_data: no text`);
  return { examples, features };
}

function dataStamps(config: DistillConfig): unknown {
  return [config.dataset.train, config.dataset.dev, config.dataset.test].map(contentStamp);
}

/** The trainer settings that decide a stage's result (not where it is written or how many threads run it). */
function trainerSettings(trainer: TrainerConfig): Omit<TrainerConfig, 'output_dir' | 'threads'> {
  const { output_dir: _dir, threads: _threads, ...rest } = trainer;
  return rest;
}

// ------------------------------------------------------------------ report

function describeShape(s: { layers: number; hidden: number; heads: number; ffn: number }): string {
  return `${s.layers} layers × ${s.hidden} (${s.heads} heads, ffn ${s.ffn})`;
}

function buildReport(
  ctx: Context,
  r: {
    teacher: LoadedModel;
    teacherDir: string;
    studentDir: string;
    aloneDir?: string;
    data: TaskData;
    plan: StudentPlan;
    relation: RelationSettings;
    profile?: number[];
  },
): DistillReport {
  const { config, log } = ctx;
  const split = r.data.test ?? r.data.dev ?? r.data.train;
  const evaluatedOn = r.data.test ? 'test' : r.data.dev ? 'dev' : 'train';
  if (evaluatedOn === 'train')
    log('warning: no dev or test data: the report scores the models on the training data');
  const opts = {
    batchSizes: config.compare.batch_sizes,
    timingExamples: config.compare.timing_examples,
    evalBatchSize: evalBatchSize(config.trainers.TD2),
  };
  log('measuring accuracy and speed of the teacher and the students …');
  const entries: Array<Omit<ModelToReport, 'task' | 'model'> & { loaded?: LoadedModel }> = [
    { role: 'teacher', dir: r.teacherDir, shape: shapeOfConfig(r.teacher.config), loaded: r.teacher },
    ...(r.aloneDir ? [{ role: 'student_alone' as const, dir: r.aloneDir, shape: r.plan.shape }] : []),
    { role: 'student', dir: r.studentDir, shape: r.plan.shape },
  ];
  const loaded = entries.map((e) => ({ e, m: e.loaded ?? loadModelDir(e.dir) }));
  let models;
  try {
    models = measureModels(
      loaded.map(({ e, m }) => ({ role: e.role, dir: e.dir, shape: e.shape, task: m.task, model: m.model })),
      split,
      opts,
    );
  } finally {
    for (const { e, m } of loaded) if (!e.loaded) m.model.dispose();
  }
  const metric = headlineMetric(models[0].metrics, r.teacher.task.defaultMetric);
  const report: DistillReport = {
    task: config.task,
    stages: config.stages,
    evaluated_on: evaluatedOn,
    metric,
    models,
    comparison: compareModels(models, metric),
    stage_runs: ctx.stages,
    settings: {
      student: { ...config.student, init_used: r.plan.init, shape: r.plan.shape },
      relation: {
        heads: r.relation.heads,
        teacher_layer: r.relation.teacherLayer + 1,
        kinds: r.relation.kinds,
        teacher_entropy_by_layer: r.profile?.map((v) => Number(v.toFixed(3))),
      },
      prediction: config.prediction,
      config: config.raw,
    },
    created: new Date().toISOString(),
  };
  const c = report.comparison;
  if (c.teacher_at_chance)
    log(
      `warning: ${c.teacher_at_chance}; the student's ${metric} is compared with chance, not with a ` +
        'trained teacher — retrain the teacher (more epochs, another learning rate) before distilling',
    );
  log(
    (c.teacher_at_chance
      ? `distilled student: ${(100 * c.retained).toFixed(1)}% of the untrained teacher's ${metric}`
      : `distilled student keeps ${(100 * c.retained).toFixed(1)}% of the teacher's ${metric}`) +
      Object.entries(c.speedup)
        .map(([b, s]) => `, ${s.toFixed(2)}× faster at batch ${b}`)
        .join(''),
  );
  return report;
}
