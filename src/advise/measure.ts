/**
 * Measuring the advice: each candidate network of one step is trained briefly on a sample of the user's
 * data with the real trainer, evaluated on dev, and timed serving requests on this machine; the results
 * become a Pareto table, a recommendation and a report (HTML with an SVG chart, PNG, JSON).
 *
 * The time budget is shared out among the candidates still to measure, so time one leaves over goes to
 * the next. Within a candidate's share the number of training steps is set from a measured speed: a short
 * probe run (the trainer stopped after a few steps, as an interrupted run would be) times the steps, and
 * the run is then resumed from the probe's checkpoint up to the steps the rest of the share affords
 * (after reserving time for loading the data again, evaluating and timing inference). Training never goes
 * beyond the epochs the advice gives for the sample.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setNumThreads } from '../engine/runtime.js';
import { createTask, type AnyTask } from '../tasks/registry.js';
import { evalBatchSize, parseConfig, type TrainConfig } from '../config/run-config.js';
import { TRAINING_RUN } from '../train/checkpoint.js';
import { loadModelDir } from '../train/model-dir.js';
import { lowerIsBetter } from '../metrics/direction.js';
import { stopAfterSteps } from '../train/stop-after.js';
import { train } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { removeDir } from '../util/replace-dir.js';
import type { Advice, StepAdvice } from './advise.js';
import type { Candidate, CandidateId, ModelSize } from './candidates.js';
import { describeCandidate, isTransformer, makeCandidate } from './candidates.js';
import { CHART_SIZE, scatterLayout } from './chart.js';
import { candidateConfig, type TrainingConfig } from './config-writer.js';
import { hyperparamsFor } from './hyperparams.js';
import { isLineTask, sampleData, type SampleResult } from './measure-data.js';
import { paretoTable, recommend, targetsFor, type Measured } from './pareto.js';
import { svgToPng } from './svg-png.js';
import { fmt } from './spec.js';
import { recommendedIds, renderMeasureHtml, renderScatterSvg, type MeasureReport } from './advice-report.js';

export interface MeasureOptions {
  /** The user's labelled training data, in the step's task format. */
  train: string;
  dev?: string;
  /** Wall-clock time for the whole measurement. */
  budgetSeconds: number;
  /** Samples, candidate runs and the reports go here. */
  outDir: string;
  /** Pipeline step, 0-based. */
  step?: number;
  /** Measure these instead of the advice's list. */
  candidates?: CandidateId[];
  /** The spec's folder: pretrained checkpoint paths in the spec are relative to it. */
  specDir: string;
  /** Inference threads; default all cores of this machine (a CPU serving machine like this one). */
  threads?: number;
  maxTrainExamples?: number;
  maxDevExamples?: number;
  seed?: number;
  log?: (line: string) => void;
}

export const REPORT_FILES = {
  html: 'advise_report.html',
  png: 'advise_report.png',
  json: 'advise_measure.json',
};

interface Planned {
  candidate: Candidate;
  role: 'serve' | 'teacher';
}

/** Steps the probe run trains to time the network (fewer for Transformers, whose steps are slow). */
const PROBE_STEPS = { transformer: 2, other: 5 };
/** Share of a candidate's time for timing inference, and its bounds in seconds. */
const INFERENCE_SHARE = 0.15;
const INFERENCE_SECONDS = { min: 1, max: 10 };

export async function measureAdvice(advice: Advice, opts: MeasureOptions): Promise<MeasureReport> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  // Configs resolve relative paths against their own folder, so every path handed on is absolute.
  const outDir = path.resolve(opts.outDir);
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const index = opts.step ?? 0;
  const stepAdvice = advice.steps[index];
  if (stepAdvice === undefined) {
    throw new UserError(`--step: ${index + 1} is not a step of the advice (it has ${advice.steps.length})`);
  }
  const { planned, skipped } = chooseCandidates(
    stepAdvice,
    opts.candidates,
    advice.spec.pretrained,
    opts.specDir,
  );
  mkdirSync(path.join(outDir, 'data'), { recursive: true });
  const task = checkTaskRuns(advice, index, planned[0], outDir);

  const sample = await sampleData({
    task: stepAdvice.step.task,
    numericFeatures: stepAdvice.step.numericFeatures,
    train: path.resolve(opts.train),
    dev: opts.dev === undefined ? undefined : path.resolve(opts.dev),
    trainOut: path.join(outDir, 'data', 'train.tsv'),
    devOut: path.join(outDir, 'data', 'dev.tsv'),
    maxTrain: opts.maxTrainExamples ?? 20_000,
    maxDev: opts.maxDevExamples ?? 2_000,
    seed: opts.seed ?? 42,
  });
  if (!isLineTask(stepAdvice.step.task)) {
    // Files that are not one example per line are used whole; the task's reader counts them.
    sample.trainCount = sample.trainLines = (await task.read(sample.train, { labelled: true })).length;
    sample.devCount = (await task.read(sample.dev, { labelled: true })).length;
  }
  log(
    `advise: measuring ${planned.map((p) => p.candidate.id).join(', ')} on ${sample.trainCount} training and ` +
      `${sample.devCount} dev examples within ${Math.round(opts.budgetSeconds)} s`,
  );

  const threads = opts.threads ?? Math.max(1, os.availableParallelism());
  const measured: Measured[] = [];
  for (const [i, p] of planned.entries()) {
    const share = Math.max(0, opts.budgetSeconds - elapsed()) / (planned.length - i);
    log(`advise: ${p.candidate.id} (${i + 1}/${planned.length}): ${share.toFixed(0)} s`);
    const m = await measureCandidate(advice, index, p, sample, share, threads, outDir);
    log(
      `advise: ${p.candidate.id}: ${m.steps} steps in ${m.trainSeconds.toFixed(1)} s, ${stepAdvice.metric} ${m.value.toFixed(4)}, ` +
        `${Math.round(m.qpsBatch1)} QPS at batch 1, ${Math.round(m.qpsBatch32)} at batch 32`,
    );
    measured.push(m);
  }

  const metric = stepAdvice.metric;
  const spec = advice.spec;
  const targets = targetsFor(metric, lowerIsBetter(metric), spec.constraints, spec.hardware.serving.machines);
  const rows = paretoTable(measured, targets);
  const teacher = stepAdvice.scheme.teacher;
  const unmeasuredTeacher =
    teacher && !measured.some((m) => m.id === teacher.id) ? describeCandidate(teacher) : undefined;
  const recommendation = recommend(rows, targets, unmeasuredTeacher);
  const files = {
    html: path.join(outDir, REPORT_FILES.html),
    png: path.join(outDir, REPORT_FILES.png),
    json: path.join(outDir, REPORT_FILES.json),
    chart: { ...CHART_SIZE },
  };
  const report: MeasureReport = {
    name: advice.name,
    source: advice.source,
    step: { index, name: stepAdvice.step.name, task: stepAdvice.step.task },
    metric,
    lowerIsBetter: targets.lowerIsBetter,
    targets,
    machine: { threads, cpus: os.availableParallelism(), servingDevice: spec.hardware.serving.device },
    sample: { train: sample.trainCount, dev: sample.devCount, devFrom: sample.devFrom },
    budgetSeconds: opts.budgetSeconds,
    elapsedSeconds: 0,
    rows,
    skipped,
    recommendation,
    notes: notesFor(advice, stepAdvice, sample, threads, skipped),
    files,
  };
  report.elapsedSeconds = elapsed();
  const layout = scatterLayout(rows, targets, recommendedIds(recommendation), files.chart);
  writeFileSync(files.png, svgToPng(renderScatterSvg(layout, report.metric, true)));
  writeFileSync(files.html, renderMeasureHtml(report));
  writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/**
 * The advice's networks to serve and its teacher, or the ones asked for. A Transformer whose checkpoint
 * is not on disk cannot be trained; base and large Transformers from scratch cannot learn anything in a
 * brief run, so they are measured only when asked for by name.
 */
export function chooseCandidates(
  s: StepAdvice,
  asked: readonly CandidateId[] | undefined,
  pretrained: Partial<Record<ModelSize, string>>,
  specDir: string,
): { planned: Planned[]; skipped: { id: CandidateId; reason: string }[] } {
  const pool = new Map<CandidateId, Planned>();
  for (const c of s.scheme.serve) pool.set(c.id, { candidate: c, role: 'serve' });
  if (s.scheme.teacher && !pool.has(s.scheme.teacher.id)) {
    pool.set(s.scheme.teacher.id, { candidate: s.scheme.teacher, role: 'teacher' });
  }
  const servedNot = s.scheme.excluded.filter((e) => e.from === 'serve' && !pool.has(e.id));
  const skipped: { id: CandidateId; reason: string }[] = [];
  let planned: Planned[];
  if (asked !== undefined) {
    planned = asked.map((id) => {
      const p = pool.get(id);
      if (p) return p;
      const notServed = servedNot.find((e) => e.id === id);
      if (notServed) {
        // The rules keep it from serving but not from training (it could teach).
        return { candidate: makeCandidate(id, pretrained), role: 'teacher' };
      }
      const known = [...pool.keys(), ...servedNot.map((e) => e.id)];
      throw new UserError(
        `--candidates: ${id} cannot be measured for ${s.step.name}` +
          `${s.scheme.excluded.some((e) => e.id === id) ? ` (ruled out: ${s.scheme.excluded.find((e) => e.id === id)!.rule})` : ''}; ` +
          `choose from ${known.join(', ')}`,
      );
    });
  } else {
    planned = [];
    for (const p of pool.values()) {
      const { candidate: c } = p;
      if (c.size !== undefined && c.pretrainedDir === undefined && c.size !== 'tiny') {
        skipped.push({
          id: c.id,
          reason: `a ${c.size} Transformer from scratch learns nothing in a brief run; name it in --candidates to measure it anyway`,
        });
      } else planned.push(p);
    }
  }
  const ready: Planned[] = [];
  for (const p of planned) {
    const dir = p.candidate.pretrainedDir;
    if (dir === undefined) {
      ready.push(p);
      continue;
    }
    const resolved = path.resolve(specDir, dir);
    if (existsSync(resolved)) ready.push({ ...p, candidate: { ...p.candidate, pretrainedDir: resolved } });
    else skipped.push({ id: p.candidate.id, reason: `its checkpoint ${dir} is not on disk (${resolved})` });
  }
  if (ready.length === 0) {
    throw new UserError(
      `nothing to measure for ${s.step.name}: ${skipped.map((k) => `${k.id}: ${k.reason}`).join('; ')}`,
    );
  }
  return { planned: ready, skipped };
}

/** The step's task, created before any sampling so that a task alembic cannot train yet fails first. */
function checkTaskRuns(advice: Advice, index: number, p: Planned, outDir: string): AnyTask {
  const s = advice.steps[index];
  const raw = candidateConfig(advice, index, p.candidate, s.serve, { train: 'train.tsv' }, outDir);
  return createTask(parseConfig(raw, path.join(outDir, 'check.json')));
}

async function measureCandidate(
  advice: Advice,
  index: number,
  p: Planned,
  sample: SampleResult,
  share: number,
  threads: number,
  outDir: string,
): Promise<Measured> {
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  const s = advice.steps[index];
  const c = p.candidate;
  const runDir = path.join(outDir, 'runs', c.id);
  // A previous measurement's checkpoints would otherwise be resumed.
  removeDir(runDir, TRAINING_RUN);
  const hp = hyperparamsFor(c, sample.trainCount, s.serve.maxLen);
  const cap = hp.epochs * Math.max(1, Math.ceil(sample.trainCount / hp.batchSize));
  const raw = candidateConfig(advice, index, c, hp, { train: sample.train, dev: sample.dev }, runDir);
  const configFor = (steps: number) => briefConfig(raw, steps, cap, runDir);

  // Probe: a few steps, timed from the moment the model is built (the trainer logs "model: …" then).
  const probeSteps = Math.min(cap, isTransformer(c.id) ? PROBE_STEPS.transformer : PROBE_STEPS.other);
  let loopStart: number | undefined;
  const probe = await train(configFor(cap), {
    ...stopAfterSteps(probeSteps),
    quiet: true,
    log: (line) => {
      if (line.startsWith('model:')) loopStart = performance.now();
    },
  });
  const probeEnd = performance.now();
  const setupSeconds = ((loopStart ?? probeEnd) - started) / 1000;
  const stepSeconds = (probeEnd - (loopStart ?? started)) / 1000 / Math.max(1, probe.steps);

  let summary = probe;
  if (probe.interrupted ?? probe.dev === undefined) {
    // Still short of the cap: spend what the share has left on more steps.
    const inferenceSeconds = clamp(share * INFERENCE_SHARE, INFERENCE_SECONDS.min, INFERENCE_SECONDS.max);
    const evalBatches = Math.ceil(sample.devCount / evalBatchSize({ batch_size: hp.batchSize }));
    // An evaluation batch (twice a training batch, forward only) costs about 2/3 of a training step;
    // the trainer evaluates once at the end and once more on reloading the best model.
    const evalSeconds = 2 * evalBatches * stepSeconds * (2 / 3);
    const left = share - since() - setupSeconds - evalSeconds - inferenceSeconds;
    const more = Math.max(0, Math.floor(left / stepSeconds));
    const steps = Math.min(cap, probe.steps + more);
    summary = await train(configFor(steps), { resume: true, quiet: true, log: () => {} });
  }
  const trainSeconds = since();
  const value = summary.dev?.[s.metric];
  if (value === undefined) {
    throw new UserError(
      `${c.id}: the dev evaluation has no ${s.metric} (it reports ${Object.keys(summary.dev ?? {}).join(', ')})`,
    );
  }
  const bestDir = path.join(runDir, 'best');
  const inferenceSeconds = clamp(share - since(), INFERENCE_SECONDS.min, INFERENCE_SECONDS.max);
  const speed = await timeInference(bestDir, sample.dev, inferenceSeconds, threads);
  return {
    id: c.id,
    name: describeCandidate(c),
    role: p.role,
    value,
    ...speed,
    parameters: summary.parameters,
    steps: summary.steps,
    trainSeconds,
    modelDir: bestDir,
  };
}

/**
 * The candidate's config for a brief run of `steps` steps: one evaluation at the end, no extra saves.
 * (The probe's learning-rate schedule is planned for the cap; the resumed run decays to its own end.)
 */
function briefConfig(raw: TrainingConfig, steps: number, cap: number, runDir: string): TrainConfig {
  const config = structuredClone(raw);
  config.trainer.max_steps = steps;
  config.trainer.eval_step = steps;
  config.trainer.save_model_step = Math.max(steps, cap);
  config.trainer.train_log_step = Math.max(1, Math.floor(steps / 20));
  return parseConfig(config, path.join(runDir, 'config.json'));
}

/**
 * Requests per second through the trained model as a service would run it: loadModelDir, then for each
 * request tokenise (task.encode) and predict, one at a time (batch 1) and 32 at a time (batch 32).
 */
export async function timeInference(
  modelDir: string,
  dataFile: string,
  seconds: number,
  threads: number,
): Promise<{ qpsBatch1: number; qpsBatch32: number; latencyMs: number }> {
  setNumThreads(threads);
  const m = loadModelDir(modelDir);
  try {
    const examples = (await m.task.read(dataFile, { labelled: true })).slice(0, 512);
    const request = (batch: unknown[]) =>
      m.task.predict(
        m.model,
        batch.map((e) => m.task.encode(e)),
      );
    let next = 0;
    const take = (n: number) => Array.from({ length: n }, () => examples[next++ % examples.length]);
    const time = (batch: number, budget: number, minCalls: number) => {
      for (let w = 0; w < 2; w++) request(take(batch)); // warm-up: first calls allocate
      let calls = 0;
      const t0 = performance.now();
      let spent = 0;
      while (spent < budget || calls < minCalls) {
        request(take(batch));
        calls++;
        spent = (performance.now() - t0) / 1000;
      }
      return { perSecond: (calls * batch) / spent, msPerCall: (1000 * spent) / calls };
    };
    const one = time(1, seconds / 2, 5);
    const many = time(32, seconds / 2, 2);
    return { qpsBatch1: one.perSecond, qpsBatch32: many.perSecond, latencyMs: one.msPerCall };
  } finally {
    m.model.dispose();
  }
}

function notesFor(
  advice: Advice,
  s: StepAdvice,
  sample: SampleResult,
  threads: number,
  skipped: readonly { id: CandidateId; reason: string }[],
): string[] {
  const spec = advice.spec;
  const notes = [
    `Each network was trained briefly on a sample (${fmt(sample.trainCount)} of ${fmt(sample.trainLines)} training lines); ` +
      'its accuracy here is a lower bound of what full training reaches, good for comparing networks, not for promising a number.',
    `QPS is measured on this machine with ${threads} inference thread(s), tokenisation included: batch 32 is the throughput of a ` +
      'service that batches concurrent requests and is compared with the QPS target; batch 1 gives the latency of a request alone.',
  ];
  if (spec.constraints.qps !== undefined && spec.hardware.serving.machines > 1) {
    notes.push(
      `The QPS target ${spec.constraints.qps} is shared by ${spec.hardware.serving.machines} serving machines, assumed like this one.`,
    );
  }
  if (spec.hardware.serving.device === 'gpu') {
    notes.push('The spec serves on GPU; these numbers are CPU numbers, so GPU throughput will be higher.');
  }
  const first = s.scheme.serve[0];
  const missed = skipped.find((k) => k.id === first.id);
  if (missed) {
    notes.push(
      `The advice's first choice, ${describeCandidate(first)}, was not measured (${missed.reason}); ` +
        'the recommendation is among the networks that were.',
    );
  }
  if (s.scheme.distillation) {
    const d = s.scheme.distillation;
    notes.push(
      `The advice distils ${describeCandidate(d.teacher)} into ${describeCandidate(d.student)} by ${d.method} distillation; ` +
        'a distilled student usually beats the same network trained on the labelled data alone, as measured here.',
    );
  }
  return notes;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
