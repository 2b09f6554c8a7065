/**
 * `alembic data-distill`: the guide's three steps (§6.3.3.1) plus the comparison that says whether it
 * was worth it.
 *   1. teacher   fine-tune the teacher on the gold data (or take a trained model directory)
 *   2. augment   augment the gold texts (optional)
 *      pool      augmented + unlabelled texts, each once, without gold texts
 *      label     label the pool with the teacher → student/train/part.1 (part.0 is the gold data)
 *   3. students  train each student on part.0 + part.1, and on part.0 alone as the baseline
 *      report    quality and batch-1 one-thread QPS of every model, in libtorch and in onnxruntime on
 *                its fp32 ONNX export (onnx/) → report.json, report.txt
 * Every step is recorded (../step-store.ts): a finished one is not redone, an interrupted one continues.
 *
 * Run as several workers (RANK/WORLD_SIZE, as torchrun or `--nproc` set them), every worker labels its
 * shard of the pool (label-shards.ts) and rank 0 alone runs every other step and writes every file; the
 * others follow its step records, so they compute the same fingerprints, label the same pool with the
 * same teacher, and end with the same report. Rank 0 beats a heartbeat file meanwhile; a follower whose
 * wait sees it silent for `--dist-timeout` fails, naming the step it waited for.
 */
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { distTimeoutMs } from '../../engine/distributed.js';
import { trainAlone } from '../../train/data-parallel.js';
import { readManifest, WEIGHTS_FILE } from '../../train/model-dir.js';
import type { TrainOptions } from '../../train/trainer.js';
import { withDirLock } from '../../util/dir-lock.js';
import { Heartbeat } from '../../util/heartbeat.js';
import { Interrupted, UserError } from '../../util/errors.js';
import { workerRank, type WorkerRank } from '../../util/worker-rank.js';
import { augmentFile, parseStrategies, type AugmentFileResult } from '../augment/index.js';
import type { ResolvedDataDistillConfig } from './data-distill-config.js';
import { DistillLayout } from './layout.js';
import { measureModels, SPEED_RUNTIMES, type ModelToMeasure } from './measure-models.js';
import { buildPool, type PoolResult } from './pool.js';
import { buildRows, formatReport, gains, type DataDistillReport } from './data-distill-report.js';
import { hashFile, hashValue, StepRunner } from '../step-store.js';
import { labelWithTeacher, teacherTextColumns } from './teacher-labelling.js';
import { trainConfigFor, trainToEnd } from './train-step.js';
import { combineParts, countLabels, countLines, poolLineFilter } from './training-files.js';

export interface DataDistillOptions {
  quiet?: boolean;
  /** Lines for the user (default: stderr). */
  log?: (line: string) => void;
  /**
   * Stops the run: labelling after its current batch, anything else at the next step boundary (the
   * trainer itself stops at a step on Ctrl-C). A rerun continues.
   */
  signal?: AbortSignal;
  /** Threads for training the teacher and students (their configs' trainer.threads otherwise). */
  threads?: number;
  /** The trainers' progress events (teacher and students alike). */
  onEvent?: TrainOptions['onEvent'];
  /** Which worker of a labelling group this is (default: from RANK/WORLD_SIZE, else the only one). */
  worker?: WorkerRank;
  /**
   * In a group: how long a follower waits for rank 0 showing no sign of life before it fails (default:
   * `--dist-timeout`).
   */
  leaderTimeoutMs?: number;
}

interface LabelResult {
  lines: number;
  labels: Record<string, number>;
  probabilities: boolean;
}

/** What every step needs. */
interface Run {
  config: ResolvedDataDistillConfig;
  layout: DistillLayout;
  steps: StepRunner;
  hashes: DataHashes;
  log: (line: string) => void;
  quiet: boolean;
  signal?: AbortSignal;
  threads?: number;
  onEvent?: TrainOptions['onEvent'];
  worker: WorkerRank;
  /** Throws Interrupted when the run was asked to stop. */
  checkStop: (step: string) => void;
}

interface Teacher {
  dir: string;
  textColumns: 1 | 2;
  /** Hash of its weights: what the labels depend on. */
  hash: string;
}

interface Pool {
  result: PoolResult;
  sources: { file: string; name: string }[];
  augmented?: AugmentFileResult;
  fingerprint: string;
}

interface TrainedStudent {
  name: string;
  goldOnly?: string;
  distilled: string;
  trainedOn: string;
}

/**
 * Runs the pipeline holding the lock on output_dir (each training locks its own folder under it too);
 * a follower (rank > 0) takes no lock: it writes only its own labelling shard.
 */
export async function runDataDistill(
  config: ResolvedDataDistillConfig,
  options: DataDistillOptions = {},
): Promise<DataDistillReport> {
  const worker = options.worker ?? workerRank();
  const settled = { ...options, worker, leaderTimeoutMs: options.leaderTimeoutMs ?? distTimeoutMs() };
  // Rank 0 trains the teacher and students alone; the workers share only the labelling, through files.
  if (worker.world > 1) trainAlone();
  if (worker.rank > 0) return runLocked(config, settled);
  return withDirLock(config.output_dir, async () => {
    const layout = new DistillLayout(config.output_dir);
    mkdirSync(layout.steps, { recursive: true });
    const heartbeat =
      worker.world > 1
        ? new Heartbeat(layout.leaderHeartbeat, heartbeatEvery(settled.leaderTimeoutMs))
        : undefined;
    try {
      return await runLocked(config, settled);
    } finally {
      heartbeat?.stop();
    }
  });
}

/** How often rank 0 beats: often enough that a follower's timeout sees several beats. */
function heartbeatEvery(timeoutMs: number): number {
  return Math.max(50, Math.min(10_000, timeoutMs / 5));
}

async function runLocked(
  config: ResolvedDataDistillConfig,
  options: DataDistillOptions,
): Promise<DataDistillReport> {
  const worker = options.worker!;
  const leads = worker.rank === 0;
  const toStderr = (line: string) => process.stderr.write(line + '\n');
  const log = leads
    ? (options.log ?? toStderr)
    : (line: string) => (options.log ?? toStderr)(`[rank ${worker.rank}/${worker.world}] ${line}`);
  const layout = new DistillLayout(config.output_dir);
  const evalFile = config.data.test ?? config.data.dev;
  if (evalFile === undefined) {
    throw new UserError(`${config.source}: data: give a test (or dev) file to compare the models on`);
  }
  mkdirSync(layout.studentDir, { recursive: true });
  const run: Run = {
    config,
    layout,
    steps: new StepRunner(
      layout.steps,
      (line) => log(`step ${line}`),
      leads
        ? undefined
        : {
            signal: options.signal,
            leader: {
              heartbeat: layout.leaderHeartbeat,
              timeoutMs: options.leaderTimeoutMs!,
            },
          },
    ),
    hashes: await dataHashes(config),
    log,
    quiet: options.quiet ?? false,
    signal: options.signal,
    threads: options.threads,
    onEvent: options.onEvent,
    worker,
    checkStop: (step) => {
      if (options.signal?.aborted) throw new Interrupted(step);
    },
  };
  const teacher = await teacherStep(run);
  run.checkStop('augment');
  const pool = await poolSteps(run, teacher);
  run.checkStop('label');
  const labels = await labelStep(run, teacher, pool);
  const students = await studentSteps(run, pool, labels.fingerprint);
  run.checkStop('report');
  const report = await reportStep(run, evalFile, teacher, students, pool, labels.result);
  if (!leads) return report;
  writeFileSync(layout.reportJson, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(layout.reportText, formatReport(report));
  log(`report: ${layout.reportJson}, ${layout.reportText}`);
  return report;
}

/** 1. Fine-tunes the teacher, or checks the given model directory. */
async function teacherStep(run: Run): Promise<Teacher> {
  const { config, layout } = run;
  let dir: string;
  if ('model_dir' in config.teacher) {
    dir = config.teacher.model_dir;
    readManifest(dir);
    run.log(`teacher: ${dir} (trained already)`);
  } else {
    const c = trainConfigFor(config.teacherSource!, {
      ...heldOut(config),
      train: config.data.train,
      outputDir: layout.teacherRun,
    });
    const fingerprint = hashValue({ config: c, data: run.hashes.all });
    dir = await run.steps.run('teacher', fingerprint, async ({ resume }) => {
      run.log(`teacher: fine-tuning ${c.model.net} on ${config.data.train}`);
      return (await trainToEnd('teacher', c, resume, run)).modelDir;
    });
  }
  const textColumns = teacherTextColumns(dir);
  // Every student shares the teacher's label ids, so its probabilities line up with theirs.
  if (run.steps.leads) copyReplacing(path.join(dir, 'label_map.json'), layout.labelMap);
  return { dir, textColumns, hash: await hashFile(path.join(dir, WEIGHTS_FILE)) };
}

/** 2a. Augments the gold texts (if asked) and pools them with the unlabelled ones. */
async function poolSteps(run: Run, teacher: Teacher): Promise<Pool> {
  const { config, layout } = run;
  let augmented: AugmentFileResult | undefined;
  if (config.augment) {
    const a = config.augment;
    const fingerprint = hashValue({
      augment: a,
      train: run.hashes.train,
      lexicon: a.pos_lexicon ? await hashFile(a.pos_lexicon) : null,
      pair: teacher.textColumns === 2,
    });
    augmented = await run.steps.run('augment', fingerprint, async () => {
      const r = await augmentFile({
        input: config.data.train,
        output: layout.augmented,
        ratio: a.ratio,
        strategies: parseStrategies(a.strategies),
        p: a.p,
        seed: a.seed,
        pair: teacher.textColumns === 2,
        posLexicon: a.pos_lexicon,
      });
      run.log(`augment: ${r.read} gold lines → ${r.written} augmented lines`);
      return r;
    });
  }
  const sources = [
    ...(config.augment ? [{ file: layout.augmented, name: 'augmented' }] : []),
    ...(config.data.unlabelled ? [{ file: config.data.unlabelled, name: 'unlabelled' }] : []),
  ];
  const gold = [config.data.train, config.data.dev, config.data.test].filter((f): f is string => !!f);
  const fingerprint = hashValue({
    sources: await Promise.all(sources.map(async (s) => [s.name, await hashFile(s.file)])),
    gold: gold.map((f) => run.hashes.byFile.get(f)),
    textColumns: teacher.textColumns,
  });
  const result = await run.steps.run<PoolResult>('pool', fingerprint, async () => {
    const r = await buildPool({ output: layout.pool, sources, gold, textColumns: teacher.textColumns });
    run.log(`pool: ${r.lines} texts to label (${describe(r)})`);
    if (r.lines === 0) throw new UserError(`${layout.pool}: nothing left for the teacher to label`);
    return r;
  });
  mkdirSync(path.dirname(layout.part0), { recursive: true });
  if (run.steps.leads) copyReplacing(config.data.train, layout.part0);
  return { result, sources, augmented, fingerprint };
}

/** 2b. The teacher labels the pool into part.1, resumably. */
async function labelStep(
  run: Run,
  teacher: Teacher,
  pool: Pool,
): Promise<{ result: LabelResult; fingerprint: string }> {
  const { config, layout } = run;
  const probabilities =
    config.labelling.probabilities ||
    config.students.some((s) => s.soft_labels !== undefined || s.min_confidence !== undefined);
  const fingerprint = hashValue({
    teacher: teacher.hash,
    pool: pool.fingerprint,
    probabilities,
    textColumns: teacher.textColumns,
  });
  const label = async () => {
    const r = await labelWithTeacher({
      teacherDir: teacher.dir,
      input: layout.pool,
      output: layout.part1,
      textColumns: teacher.textColumns,
      probabilities,
      batchSize: config.labelling.batch_size,
      fingerprint,
      worker: run.worker,
      threads: config.labelling.threads,
      syncEvery: config.labelling.sync_every,
      quiet: run.quiet,
      signal: run.signal,
      log: run.log,
    });
    if (!r.complete) throw new Interrupted('label');
    return r;
  };
  // A follower labels its shard unless the step is done, then waits for rank 0 to merge.
  if (!run.steps.leads && run.steps.done('label', fingerprint) === undefined) {
    const r = await label();
    run.log(`label: lines ${r.shard.start + 1}-${r.shard.end} of ${r.total} labelled in this worker's shard`);
  }
  const result = await run.steps.run<LabelResult>('label', fingerprint, async () => {
    run.log(`label: the teacher labels ${pool.result.lines} texts → ${layout.part1}`);
    const r = await label();
    if (!r.merged) throw new Interrupted('label');
    return { lines: r.total, labels: await countLabels(layout.part1, teacher.textColumns), probabilities };
  });
  run.log(`label: ${result.lines} lines labelled by the teacher (${JSON.stringify(result.labels)})`);
  return { result, fingerprint };
}

/** 3. Each student: on the gold data alone (the baseline), and on gold + teacher-labelled data. */
async function studentSteps(run: Run, pool: Pool, labelFingerprint: string): Promise<TrainedStudent[]> {
  const { config, layout, log } = run;
  const labelMapHash = await hashFile(layout.labelMap);
  const built = new Set<string>();
  /** part.0 + the part.1 lines of some pool sources (the surest of them) as one file, written once per run. */
  const combine = async (
    file: string,
    soft: boolean,
    sources: readonly string[] | undefined,
    textColumns: 1 | 2,
    minConfidence: number | undefined,
  ) => {
    if (built.has(file)) return;
    const { offered, kept } = await combineParts(layout.part0, layout.part1, file, {
      keepProbabilities: soft,
      textColumns,
      include: poolLineFilter(pool.result, pool.sources, sources),
      minConfidence,
    });
    if (minConfidence !== undefined) {
      log(`${path.basename(file)}: ${kept} of ${offered} teacher labels have confidence ≥ ${minConfidence}`);
    }
    built.add(file);
  };
  const students: TrainedStudent[] = [];
  for (const [i, spec] of config.students.entries()) {
    const source = config.studentSources[i];
    const name = spec.name;
    let goldOnly: string | undefined;
    if (spec.gold_only) {
      run.checkStop(`student ${name} (gold only)`);
      const c = trainConfigFor(source, {
        ...heldOut(config),
        train: config.data.train,
        labelMap: layout.labelMap,
        outputDir: layout.studentRun(name, 'gold_only'),
      });
      const fp = hashValue({ config: c, data: run.hashes.all, labelMap: labelMapHash });
      goldOnly = await run.steps.run(`student-${name}-gold_only`, fp, async ({ resume }) => {
        log(`student ${name}: training on the gold data only (the baseline)`);
        return (await trainToEnd(`student ${name} (gold only)`, c, resume, run)).modelDir;
      });
    }
    run.checkStop(`student ${name} (distilled)`);
    const soft = spec.soft_labels !== undefined;
    const sure = spec.min_confidence;
    const trainFile = layout.combined(soft, spec.sources, sure);
    const chosen = spec.sources ?? pool.sources.map((x) => x.name);
    const trainedOn =
      ['gold', ...chosen].join(' + ') + (sure === undefined ? '' : ` (teacher's confidence ≥ ${sure})`);
    const vocab = vocabularySource(layout, chosen, sure);
    const c = trainConfigFor(source, {
      ...heldOut(config),
      train: trainFile,
      vocabFrom: vocab?.file,
      labelMap: layout.labelMap,
      outputDir: layout.studentRun(name, 'distilled'),
      softLabels: spec.soft_labels,
    });
    const fp = hashValue({
      config: c,
      data: run.hashes.all,
      labels: labelFingerprint,
      labelMap: labelMapHash,
    });
    const distilled = await run.steps.run(`student-${name}-distilled`, fp, async ({ resume }) => {
      const textColumns = c.task === 'text_pair_classification' ? 2 : 1;
      await combine(trainFile, soft, spec.sources, textColumns, sure);
      if (vocab && vocab.sources.length > 0) {
        await combine(vocab.file, false, vocab.sources, textColumns, sure);
      }
      log(`student ${name}: training on ${trainedOn}${soft ? ' (soft labels)' : ''}`);
      return (await trainToEnd(`student ${name} (distilled)`, c, resume, run)).modelDir;
    });
    students.push({ name, goldOnly, distilled, trainedOn });
  }
  return students;
}

/**
 * What a distilled student's vocabulary is counted on: the gold data plus the chosen pool sources but the
 * augmented copies, whose repeats would lift every word seen once in the gold data into the vocabulary (on
 * 600 SpamAssassin emails, 12k → 34k words, and a student that fits those rare words loses to the
 * gold-only one). The file is part.0 alone, or part.0 + those sources' lines (`sources`, still to be
 * combined). Undefined when the student reads no augmented text: its training file is then its
 * vocabulary source.
 */
function vocabularySource(
  layout: DistillLayout,
  chosen: readonly string[],
  minConfidence: number | undefined,
): { file: string; sources: string[] } | undefined {
  if (!chosen.includes('augmented')) return undefined;
  const sources = chosen.filter((s) => s !== 'augmented');
  const file = sources.length === 0 ? layout.part0 : layout.combined(false, sources, minConfidence);
  return { file, sources };
}

/** Quality on the evaluation file and batch-1 one-thread QPS of every model in both runtimes. */
async function reportStep(
  run: Run,
  evalFile: string,
  teacher: Teacher,
  students: TrainedStudent[],
  pool: Pool,
  labelled: LabelResult,
): Promise<DataDistillReport> {
  const { config } = run;
  const models = reportedModels(run.layout, teacher, students);
  const fingerprint = hashValue({
    models: await Promise.all(models.map((m) => hashFile(path.join(m.dir, WEIGHTS_FILE)))),
    eval: run.hashes.byFile.get(evalFile),
    qps: config.report.qps_examples,
    rounds: config.report.qps_rounds,
    runtimes: SPEED_RUNTIMES,
  });
  return run.steps.run<DataDistillReport>('report', fingerprint, async () => {
    const names = new Map(models.map((m) => [m.dir, m.name]));
    run.log(
      `report: evaluating ${models.length} models, exporting them to ONNX, then timing them at batch 1 ` +
        `on one thread in libtorch and onnxruntime`,
    );
    const measured = await measureModels(models, {
      evalFile,
      qpsExamples: config.report.qps_examples,
      rounds: config.report.qps_rounds,
      onModel: (dir) => run.log(`report: evaluating ${names.get(dir)}`),
      onExport: (dir, onnxDir, reused) =>
        run.log(`report: ${names.get(dir)} in ONNX: ${onnxDir}${reused ? ' (up to date)' : ''}`),
    });
    const byDir = new Map(models.map((m, i) => [m.dir, measured[i]]));
    const teacherMeasurement = byDir.get(teacher.dir)!;
    const studentMeasurements = students.map((s) => ({
      name: s.name,
      goldOnly: s.goldOnly ? byDir.get(s.goldOnly) : undefined,
      distilled: byDir.get(s.distilled)!,
      trainedOn: s.trainedOn,
    }));
    const rows = buildRows(teacherMeasurement, studentMeasurements);
    return {
      config: config.source,
      evaluatedOn: { file: evalFile, split: config.data.test ? 'test' : 'dev' },
      rows,
      data: {
        gold: await countLines(config.data.train),
        augmented: pool.augmented
          ? { read: pool.augmented.read, written: pool.augmented.written }
          : undefined,
        pool: pool.result,
        labelled,
      },
      gains: gains(rows),
      created: new Date().toISOString(),
    };
  });
}

/** The teacher and every student, each with a name for the log and where its ONNX export goes. */
function reportedModels(
  layout: DistillLayout,
  teacher: Teacher,
  students: TrainedStudent[],
): (ModelToMeasure & { name: string })[] {
  const models = [{ name: 'the teacher', dir: teacher.dir, onnxDir: layout.onnxExport('teacher') }];
  for (const s of students) {
    for (const [variant, dir] of [
      ['gold_only', s.goldOnly],
      ['distilled', s.distilled],
    ] as const) {
      if (dir === undefined) continue;
      const name = `${s.name} (${variant === 'gold_only' ? 'gold only' : variant})`;
      models.push({ name, dir, onnxDir: layout.onnxExport(`${s.name}-${variant}`) });
    }
  }
  return models;
}

/** Copies through a temp file and a rename: a follower reading `to` never sees it half-written. */
function copyReplacing(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  copyFileSync(from, tmp);
  renameSync(tmp, to);
}

function heldOut(config: ResolvedDataDistillConfig): { dev?: string; test?: string } {
  return { dev: config.data.dev, test: config.data.test };
}

interface DataHashes {
  train: string;
  byFile: Map<string, string>;
  /** train, dev and test hashes together: what every training step depends on. */
  all: (string | null)[];
}

async function dataHashes(config: ResolvedDataDistillConfig): Promise<DataHashes> {
  const byFile = new Map<string, string>();
  for (const f of [config.data.train, config.data.dev, config.data.test]) {
    if (f !== undefined && !byFile.has(f)) byFile.set(f, await hashFile(f));
  }
  const get = (f: string | undefined) => (f === undefined ? null : byFile.get(f)!);
  return {
    train: get(config.data.train)!,
    byFile,
    all: [get(config.data.train), get(config.data.dev), get(config.data.test)],
  };
}

function describe(r: PoolResult): string {
  const parts = Object.entries(r.bySource).map(([name, n]) => `${n} ${name}`);
  if (r.duplicatesDropped) parts.push(`${r.duplicatesDropped} duplicates dropped`);
  if (r.goldDropped) parts.push(`${r.goldDropped} gold texts dropped`);
  return parts.join(', ');
}
