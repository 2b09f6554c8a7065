/**
 * `alembic data-distill`: the guide's three steps (§6.3.3.1) plus the comparison that says whether it
 * was worth it.
 *   1. teacher   fine-tune the teacher on the gold data (or take a trained model directory)
 *   2. augment   augment the gold texts (optional); pool them with the user's unlabelled texts
 *      label     label the pool with the teacher → student/train/part.1 (part.0 is the gold data)
 *   3. students  train each student on part.0 + part.1, and on part.0 alone as the baseline
 *      report    quality and batch-1 one-thread QPS of every model → report.json, report.txt
 * Every step is recorded (steps.ts): a finished one is not redone, an interrupted one continues.
 */
import { copyFileSync, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { readLines } from '../../data/line-reader.js';
import { setNumThreads } from '../../engine/runtime.js';
import { loadModelDir, readManifest, WEIGHTS_FILE } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';
import { augmentFile, parseStrategies, type AugmentFileResult } from '../augment/index.js';
import type { ResolvedDataDistillConfig, StudentSpec } from './config.js';
import { labelFile, teacherLabeller } from './label-file.js';
import { LabelProgress } from './label-progress.js';
import { DistillLayout } from './layout.js';
import { measureModel, type ModelMeasurement } from './measure.js';
import { buildPool, type PoolResult } from './pool.js';
import { buildRows, formatReport, gains, type DataDistillReport } from './report.js';
import { hashFile, hashValue, PipelineInterrupted, StepRunner } from './steps.js';
import { DISTILLABLE_TASKS, trainConfigFor, trainToEnd } from './train-step.js';

export interface DataDistillOptions {
  quiet?: boolean;
  /** Lines for the user (default: stderr). */
  log?: (line: string) => void;
  /** Stops labelling after the current batch (the trainer stops on Ctrl-C by itself). */
  signal?: AbortSignal;
}

interface LabelResult {
  lines: number;
  labels: Record<string, number>;
  probabilities: boolean;
}

export async function runDataDistill(
  config: ResolvedDataDistillConfig,
  options: DataDistillOptions = {},
): Promise<DataDistillReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const quiet = options.quiet ?? false;
  const layout = new DistillLayout(config.output_dir);
  const steps = new StepRunner(layout.steps, (line) => log(`step ${line}`));
  const evalFile = config.data.test ?? config.data.dev;
  if (evalFile === undefined) {
    throw new UserError(`${config.source}: data: give a test (or dev) file to compare the models on`);
  }
  mkdirSync(layout.studentDir, { recursive: true });
  const hashes = await dataHashes(config);

  // 1. The teacher.
  const teacherDir = await teacherStep(config, layout, steps, hashes, { quiet, log });
  const teacherManifest = readManifest(teacherDir);
  if (!(DISTILLABLE_TASKS as readonly string[]).includes(teacherManifest.task)) {
    throw new UserError(
      `${teacherDir}: a ${teacherManifest.task} model; data distillation supports ${DISTILLABLE_TASKS.join(' and ')}`,
    );
  }
  const textColumns = teacherManifest.task === 'text_pair_classification' ? 2 : 1;
  const teacherHash = await hashFile(path.join(teacherDir, WEIGHTS_FILE));
  copyFileSync(path.join(teacherDir, 'label_map.json'), layout.labelMap);

  // 2. Augment, pool, label.
  let augmented: AugmentFileResult | undefined;
  if (config.augment) {
    const a = config.augment;
    const fingerprint = hashValue({
      augment: a,
      train: hashes.train,
      lexicon: a.pos_lexicon ? await hashFile(a.pos_lexicon) : null,
      pair: textColumns === 2,
    });
    augmented = await steps.run('augment', fingerprint, async () => {
      const r = await augmentFile({
        input: config.data.train,
        output: layout.augmented,
        ratio: a.ratio,
        strategies: parseStrategies(a.strategies),
        p: a.p,
        seed: a.seed,
        pair: textColumns === 2,
        posLexicon: a.pos_lexicon,
      });
      log(`augment: ${r.read} gold lines → ${r.written} augmented lines`);
      return r;
    });
  }
  const sources = [
    ...(config.augment ? [{ file: layout.augmented, name: 'augmented' }] : []),
    ...(config.data.unlabelled ? [{ file: config.data.unlabelled, name: 'unlabelled' }] : []),
  ];
  const gold = [config.data.train, config.data.dev, config.data.test].filter((f): f is string => !!f);
  const poolFingerprint = hashValue({
    sources: await Promise.all(sources.map(async (s) => [s.name, await hashFile(s.file)])),
    gold: gold.map((f) => hashes.byFile.get(f)),
    textColumns,
  });
  const pool = await steps.run<PoolResult>('pool', poolFingerprint, async () => {
    const r = await buildPool({ output: layout.pool, sources, gold, textColumns });
    log(`pool: ${r.lines} texts to label (${describe(r)})`);
    if (r.lines === 0) throw new UserError(`${layout.pool}: nothing left for the teacher to label`);
    return r;
  });
  mkdirSync(path.dirname(layout.part0), { recursive: true });
  copyFileSync(config.data.train, layout.part0);

  const probabilities = config.labelling.probabilities || config.students.some((s) => s.soft_labels);
  const labelFingerprint = hashValue({
    teacher: teacherHash,
    pool: poolFingerprint,
    probabilities,
    textColumns,
  });
  const labelled = await steps.run<LabelResult>('label', labelFingerprint, async () => {
    const teacher = loadModelDir(teacherDir);
    setNumThreads(config.labelling.threads ?? Math.max(1, os.availableParallelism()));
    let progress: LabelProgress | undefined;
    try {
      const r = await labelFile({
        input: layout.pool,
        output: layout.part1,
        textColumns,
        label: teacherLabeller(teacher),
        batchSize: config.labelling.batch_size,
        probabilities,
        fingerprint: labelFingerprint,
        syncEvery: config.labelling.sync_every,
        signal: options.signal,
        onStart: (resumedAt, total) => (progress = new LabelProgress(total, resumedAt, quiet)),
        onProgress: (done) => progress?.update(done),
        log,
      });
      progress?.stop();
      if (!r.complete) throw new PipelineInterrupted('label');
      return { lines: r.total, labels: await countLabels(layout.part1, textColumns), probabilities };
    } finally {
      progress?.stop();
      teacher.model.dispose();
    }
  });
  log(`label: ${labelled.lines} lines labelled by the teacher (${JSON.stringify(labelled.labels)})`);

  // 3. Students.
  const labelMapHash = await hashFile(layout.labelMap);
  const combinedBuilt = new Set<string>();
  const students: { spec: StudentSpec; goldOnly?: string; distilled: string; trainedOn: string }[] = [];
  for (const [i, spec] of config.students.entries()) {
    const source = config.studentSources[i];
    let goldOnly: string | undefined;
    if (spec.gold_only) {
      const c = trainConfigFor(source, {
        ...heldOut(config),
        train: config.data.train,
        labelMap: layout.labelMap,
        outputDir: layout.studentRun(spec.name, 'gold_only'),
      });
      const fp = hashValue({ config: c, data: hashes.all, labelMap: labelMapHash });
      goldOnly = await steps.run(`student-${spec.name}-gold_only`, fp, async ({ resume }) => {
        log(`student ${spec.name}: training on the gold data only (the baseline)`);
        return (await trainToEnd(`student ${spec.name} (gold only)`, c, resume, { quiet, log })).modelDir;
      });
    }
    const soft = spec.soft_labels !== undefined;
    const trainFile = layout.combined(soft, spec.sources);
    const include = poolLineFilter(pool, sources, spec.sources);
    const c = trainConfigFor(source, {
      ...heldOut(config),
      train: trainFile,
      labelMap: layout.labelMap,
      outputDir: layout.studentRun(spec.name, 'distilled'),
      softLabels: spec.soft_labels,
    });
    const trainedOn = ['gold', ...(spec.sources ?? sources.map((x) => x.name))].join(' + ');
    const fp = hashValue({ config: c, data: hashes.all, labels: labelFingerprint, labelMap: labelMapHash });
    const distilled = await steps.run(`student-${spec.name}-distilled`, fp, async ({ resume }) => {
      if (!combinedBuilt.has(trainFile)) {
        await combineParts(layout.part0, layout.part1, trainFile, {
          keepProbabilities: soft,
          textColumns,
          include,
        });
        combinedBuilt.add(trainFile);
      }
      log(`student ${spec.name}: training on ${trainedOn}${soft ? ' (soft labels)' : ''}`);
      return (await trainToEnd(`student ${spec.name} (distilled)`, c, resume, { quiet, log })).modelDir;
    });
    students.push({ spec, goldOnly, distilled, trainedOn });
  }

  // Report.
  const modelDirs = [
    teacherDir,
    ...students.flatMap((s) => (s.goldOnly ? [s.goldOnly, s.distilled] : [s.distilled])),
  ];
  const reportFingerprint = hashValue({
    models: await Promise.all(modelDirs.map((d) => hashFile(path.join(d, WEIGHTS_FILE)))),
    eval: hashes.byFile.get(evalFile),
    qps: config.report.qps_examples,
  });
  const report = await steps.run<DataDistillReport>('report', reportFingerprint, async () => {
    const measure = (dir: string, what: string): Promise<ModelMeasurement> => {
      log(`report: measuring ${what}`);
      return measureModel(dir, { evalFile, qpsExamples: config.report.qps_examples });
    };
    const teacher = await measure(teacherDir, 'the teacher');
    const measured = [];
    for (const s of students) {
      measured.push({
        name: s.spec.name,
        goldOnly: s.goldOnly ? await measure(s.goldOnly, `${s.spec.name} (gold only)`) : undefined,
        distilled: await measure(s.distilled, `${s.spec.name} (distilled)`),
        trainedOn: s.trainedOn,
      });
    }
    const rows = buildRows(teacher, measured);
    const r: DataDistillReport = {
      config: config.source,
      evaluatedOn: { file: evalFile, split: config.data.test ? 'test' : 'dev' },
      rows,
      data: {
        gold: await countLines(config.data.train),
        augmented: augmented ? { read: augmented.read, written: augmented.written } : undefined,
        pool,
        labelled,
      },
      gains: gains(rows),
      created: new Date().toISOString(),
    };
    return r;
  });
  writeFileSync(layout.reportJson, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(layout.reportText, formatReport(report));
  log(`report: ${layout.reportJson}, ${layout.reportText}`);
  return report;
}

async function teacherStep(
  config: ResolvedDataDistillConfig,
  layout: DistillLayout,
  steps: StepRunner,
  hashes: DataHashes,
  opts: { quiet: boolean; log: (line: string) => void },
): Promise<string> {
  if ('model_dir' in config.teacher) {
    readManifest(config.teacher.model_dir);
    opts.log(`teacher: ${config.teacher.model_dir} (trained already)`);
    return config.teacher.model_dir;
  }
  const c = trainConfigFor(config.teacherSource!, {
    ...heldOut(config),
    train: config.data.train,
    outputDir: layout.teacherRun,
  });
  const fingerprint = hashValue({ config: c, data: hashes.all });
  return steps.run('teacher', fingerprint, async ({ resume }) => {
    opts.log(`teacher: fine-tuning ${c.model.net} on ${config.data.train}`);
    return (await trainToEnd('teacher', c, resume, opts)).modelDir;
  });
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

/**
 * part.0 + part.1 as one training file. Hard labels: the probability column of part.1 (if any) is
 * dropped, giving plain `text<TAB>label` lines; soft labels: it is kept (gold lines have none).
 */
export async function combineParts(
  part0: string,
  part1: string,
  output: string,
  opts: { keepProbabilities: boolean; textColumns: 1 | 2; include?: (index: number) => boolean },
): Promise<void> {
  const out = createWriteStream(output, { encoding: 'utf8' });
  let buffer = '';
  const write = async (line: string) => {
    buffer += line + '\n';
    if (buffer.length >= 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  };
  for await (const line of readLines(part0)) await write(line.text);
  let index = 0;
  for await (const line of readLines(part1)) {
    if (opts.include && !opts.include(index++)) continue;
    await write(
      opts.keepProbabilities
        ? line.text
        : line.text
            .split('\t')
            .slice(0, opts.textColumns + 1)
            .join('\t'),
    );
  }
  if (buffer !== '' && !out.write(buffer)) await once(out, 'drain');
  await new Promise<void>((done, fail) => out.end((err?: Error | null) => (err ? fail(err) : done())));
}

/**
 * Which part.1 lines (0-based) come from the chosen pool sources: the pool holds each source's lines
 * in turn, in the order of `order`. Undefined (all lines) when every source is chosen.
 */
export function poolLineFilter(
  pool: PoolResult,
  order: readonly { name: string }[],
  chosen: readonly string[] | undefined,
): ((index: number) => boolean) | undefined {
  if (chosen === undefined || order.every((s) => chosen.includes(s.name))) return undefined;
  const ranges: [number, number][] = [];
  let start = 0;
  for (const { name } of order) {
    const n = pool.bySource[name] ?? 0;
    if (chosen.includes(name)) ranges.push([start, start + n]);
    start += n;
  }
  return (i) => ranges.some(([from, to]) => i >= from && i < to);
}

async function countLabels(file: string, textColumns: 1 | 2): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const line of readLines(file)) {
    const label = line.text.split('\t')[textColumns];
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readLines(file)) n++;
  return n;
}

function describe(r: PoolResult): string {
  const parts = Object.entries(r.bySource).map(([name, n]) => `${n} ${name}`);
  if (r.duplicatesDropped) parts.push(`${r.duplicatesDropped} duplicates dropped`);
  if (r.goldDropped) parts.push(`${r.goldDropped} gold texts dropped`);
  return parts.join(', ');
}
