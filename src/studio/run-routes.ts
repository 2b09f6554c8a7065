/**
 * The train, runs, distil and deploy pages' routes: the config form's template and schema, validation as
 * the CLI validates, runs started as background jobs (live events over SSE, stop, resume), the runs table,
 * reports and metrics, deletion of what the studio made (with the run's name as confirmation),
 * distillation and export jobs, "try it" predictions, the `alembic serve` command with its curl, and the
 * model or export as a .tar.gz. Every path served comes from the database, never from the request.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pipeline, type Pipeline, type PipelineInput } from '../api/hf-pipeline.js';
import type { TrainConfig } from '../config/run-config.js';
import { readDeployManifest } from '../deploy/export/manifest.js';
import { UserError } from '../util/errors.js';
import { removeDir } from '../util/replace-dir.js';
import {
  configTaskName,
  parseRunConfig,
  runConfigJsonSchema,
  templateFor,
  validateRunConfig,
  withOutputDir,
} from './config-schema.js';
import { tarGz } from './dir-archive.js';
import { distillConfig, studentModelDir, studentTrainingDir, type DistillKind } from './distill-plan.js';
import { streamEvents } from './event-stream.js';
import type { ExportResult } from './export-job.js';
import type { WorkerJob } from './job-worker.js';
import type { JobRow, RunRow } from './studio-db.js';
import type { StudioContext } from './studio-server.js';
import { StudioHttpError, Workspace } from './workspace.js';

/** Where a run's model, training log and report are, by what made it. */
function runLayout(run: RunRow): { modelDir: string; trainingDir: string; report: string } {
  if (run.kind === 'distill-model' || run.kind === 'distill-data') {
    const kind: DistillKind = run.kind === 'distill-model' ? 'model' : 'data';
    const trainingDir = studentTrainingDir(kind, run.dir);
    const report =
      kind === 'model' ? path.join(run.dir, 'distill_report.html') : path.join(trainingDir, 'report.html');
    return { modelDir: studentModelDir(kind, run.dir), trainingDir, report };
  }
  return {
    modelDir: path.join(run.dir, 'best'),
    trainingDir: run.dir,
    report: path.join(run.dir, 'report.html'),
  };
}

const EXPORTS = { fp32: 'export-fp32', int8: 'export-int8' } as const;

function exportDirs(run: RunRow): string[] {
  return Object.values(EXPORTS)
    .map((d) => path.join(run.dir, d))
    .filter((d) => existsSync(path.join(d, 'alembic-model.json')));
}

export function registerRunRoutes(app: FastifyInstance, ctx: StudioContext): void {
  const { ws, db, jobs } = ctx;
  /** Open "try it" pipelines by model folder; a new export or a deletion closes them. */
  const pipelines = new Map<string, Promise<Pipeline>>();
  const closePipelines = async (dir: string) => {
    for (const [k, p] of pipelines)
      if (k.startsWith(dir + path.sep) || k === dir) {
        pipelines.delete(k);
        await (await p.catch(() => undefined))?.dispose();
      }
  };
  app.addHook('onClose', async () => {
    for (const p of pipelines.values()) await (await p.catch(() => undefined))?.dispose();
  });

  const runOf = (params: unknown): RunRow => {
    const id = Number((params as { id: string }).id);
    const run = Number.isInteger(id) ? db.run(id) : undefined;
    if (!run) throw new StudioHttpError(404, `no run ${(params as { id: string }).id}`);
    return run;
  };
  const jobOf = (params: unknown): JobRow => {
    const id = Number((params as { id: string }).id);
    const job = Number.isInteger(id) ? db.job(id) : undefined;
    if (!job) throw new StudioHttpError(404, `no job ${(params as { id: string }).id}`);
    return job;
  };
  const newRunName = (name: unknown): string => {
    const n = Workspace.checkName(name, 'run name');
    if (db.runByName(n) || existsSync(ws.runDir(n)))
      throw new StudioHttpError(409, `a run named "${n}" exists already; choose another name`);
    return n;
  };
  const summary = (run: RunRow) => ({
    id: run.id,
    name: run.name,
    task: run.task,
    net: run.net,
    kind: run.kind,
    parent: run.parent,
    status: run.status,
    best: run.best,
    created: run.created,
  });
  const jobView = (j: JobRow) => ({ ...j, running: jobs.isRunning(j.id) });

  app.get('/api/schema', async (req) => {
    const q = req.query as Record<string, unknown>;
    return {
      template: templateFor(q.task ?? 'text_classification', q.net ?? 'bow'),
      schema: runConfigJsonSchema(),
    };
  });

  app.post('/api/config/validate', async (req) =>
    validateRunConfig((req.body as { config?: unknown })?.config, ws),
  );

  app.post('/api/runs', async (req, reply) => {
    const body = (req.body ?? {}) as { name?: unknown; config?: unknown };
    const name = newRunName(body.name);
    const dir = ws.runDir(name);
    const c = parseRunConfig(body.config, ws, dir);
    const config = withOutputDir(body.config, dir);
    createRunDir(dir);
    const runId = db.addRun({
      name,
      task: c.task,
      net: c.model.net,
      status: 'running',
      dir,
      config,
      kind: 'train',
      parent: null,
    });
    const job: WorkerJob = { kind: 'train', config, baseDir: ws.root, resume: false };
    const jobId = jobs.start('train', runId, { job }, job);
    return reply.code(201).send({ runId, jobId });
  });

  app.get('/api/runs', async () => db.runs().map(summary));

  app.get('/api/runs/:id', async (req) => {
    const run = runOf(req.params);
    const layout = runLayout(run);
    return {
      ...summary(run),
      config: run.config,
      dir: ws.relative(run.dir),
      model: existsSync(layout.modelDir) ? ws.relative(layout.modelDir) : null,
      exports: exportDirs(run).map((d) => ws.relative(d)),
      resumable: jobs.runningJobOf(run.id) === undefined && run.status !== 'done' && existsSync(run.dir),
      jobs: db.jobsOfRun(run.id).map(jobView),
    };
  });

  app.delete('/api/runs/:id', async (req) => {
    const run = runOf(req.params);
    const confirm = (req.query as Record<string, unknown>).confirm;
    if (confirm !== run.name)
      throw new UserError(
        `to delete run "${run.name}", repeat its name: ?confirm=${encodeURIComponent(run.name)}`,
      );
    if (jobs.runningJobOf(run.id) !== undefined)
      throw new StudioHttpError(409, `run "${run.name}" has a job running; stop it first`);
    await closePipelines(run.dir);
    // Only the run's own folder, which the studio created under runs/; its data files stay.
    if (existsSync(run.dir)) removeDir(run.dir, STUDIO_RUN);
    db.deleteRun(run.id);
    return { deleted: run.name };
  });

  app.get('/api/runs/:id/metrics', async (req) => {
    const file = path.join(runLayout(runOf(req.params)).trainingDir, 'metrics.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as unknown);
  });

  app.get('/api/runs/:id/events', (req, reply) => {
    const run = runOf(req.params);
    streamEvents(req, reply, db, jobs, () => db.jobsOfRun(run.id).map((j) => j.id));
  });

  app.post('/api/runs/:id/stop', async (req) => {
    const run = runOf(req.params);
    const jobId = jobs.runningJobOf(run.id);
    if (jobId === undefined) throw new StudioHttpError(409, `run "${run.name}" has no job running`);
    jobs.stop(jobId);
    return { jobId, stopping: true };
  });

  app.post('/api/runs/:id/resume', async (req, reply) => {
    const run = runOf(req.params);
    if (jobs.runningJobOf(run.id) !== undefined)
      throw new StudioHttpError(409, `run "${run.name}" is running`);
    const last = db.jobsOfRun(run.id).find((j) => j.kind !== 'export');
    const job = last?.params.job as WorkerJob | undefined;
    if (!last || !job) throw new StudioHttpError(409, `run "${run.name}" has no job to resume`);
    if (last.status === 'done')
      throw new StudioHttpError(409, `run "${run.name}" has finished; nothing to resume`);
    const again: WorkerJob = job.kind === 'train' ? { ...job, resume: true } : job;
    const jobId = jobs.start(last.kind, run.id, { job: again, resumeOf: last.id }, again);
    return reply.code(202).send({ runId: run.id, jobId });
  });

  app.get('/api/runs/:id/report', async (req, reply) => {
    const file = runLayout(runOf(req.params)).report;
    if (!existsSync(file)) throw new StudioHttpError(404, 'no report yet: it is written when the run ends');
    return reply.type('text/html; charset=utf-8').send(readFileSync(file));
  });

  app.post('/api/runs/:id/distill', async (req, reply) => {
    const teacher = runOf(req.params);
    const body = (req.body ?? {}) as { kind?: unknown; name?: unknown; overrides?: unknown };
    if (body.kind !== 'model' && body.kind !== 'data')
      throw new UserError('distill: kind must be "model" or "data"');
    const modelDir = runLayout(teacher).modelDir;
    if (!existsSync(modelDir))
      throw new StudioHttpError(409, `run "${teacher.name}" has no trained model yet`);
    const name = newRunName(body.name ?? `${teacher.name}-${body.kind}-distilled`);
    const dir = ws.runDir(name);
    // The config the teacher model was trained with (a distilled run's student has one too).
    const teacherConfig = readDeployManifest(modelDir).config;
    const config = distillConfig(body.kind, teacherConfig, modelDir, dir, body.overrides);
    const kind = body.kind === 'model' ? 'distill-model' : 'distill-data';
    const net = body.kind === 'model' ? 'transformer' : 'bow';
    createRunDir(dir);
    const runId = db.addRun({
      name,
      task: teacher.task,
      net,
      status: 'running',
      dir,
      config,
      kind,
      parent: teacher.id,
    });
    const job: WorkerJob = { kind, config, baseDir: ws.root };
    const jobId = jobs.start(kind, runId, { job }, job);
    return reply.code(202).send({ jobId, runId });
  });

  app.post('/api/runs/:id/export', async (req, reply) => {
    const run = runOf(req.params);
    const int8 = (req.body as { int8?: unknown } | undefined)?.int8 === true;
    const modelDir = runLayout(run).modelDir;
    if (!existsSync(modelDir)) throw new StudioHttpError(409, `run "${run.name}" has no trained model yet`);
    const outDir = path.join(run.dir, int8 ? EXPORTS.int8 : EXPORTS.fp32);
    await closePipelines(outDir);
    const job: WorkerJob = { kind: 'export', modelDir, outDir, int8, benchSeconds: ctx.benchSeconds };
    const jobId = jobs.start('export', run.id, { int8 }, job);
    return reply.code(202).send({ jobId });
  });

  app.post('/api/runs/:id/predict', async (req) => {
    const run = runOf(req.params);
    const dir = [...exportDirs(run), runLayout(run).modelDir].find((d) =>
      existsSync(path.join(d, 'alembic-model.json')),
    );
    if (!dir) throw new StudioHttpError(409, `run "${run.name}" has no trained model yet`);
    const input = predictInput(req.body);
    if (!pipelines.has(dir)) pipelines.set(dir, pipeline(dir));
    let p: Pipeline;
    try {
      p = await pipelines.get(dir)!;
    } catch (e) {
      pipelines.delete(dir);
      throw e;
    }
    return { model: ws.relative(dir), backend: p.backend, result: await p(input) };
  });

  app.get('/api/runs/:id/curl', async (req) => {
    const run = runOf(req.params);
    const dir = exportDirs(run)[0] ?? runLayout(run).modelDir;
    const example = curlBody(configTaskName(run.task));
    const serve = `alembic serve --model ${shellQuote(`${run.name}=${dir}`)} --port 8080`;
    const curl = `curl -s localhost:8080/predict -H 'content-type: application/json' -d ${shellQuote(JSON.stringify(example))}`;
    return { serve, curl, text: `${serve}\n${curl}\n` };
  });

  app.get('/api/runs/:id/download', async (req, reply) => {
    const run = runOf(req.params);
    const what = (req.query as Record<string, unknown>).what ?? 'model';
    if (what !== 'model' && what !== 'export')
      throw new UserError('download: what must be "model" or "export"');
    const dir = what === 'model' ? runLayout(run).modelDir : newestExport(run, db.jobsOfRun(run.id));
    if (!dir || !existsSync(dir)) throw new StudioHttpError(404, `run "${run.name}" has no ${what} yet`);
    const name = `${run.name}-${what === 'model' ? 'model' : path.basename(dir)}`;
    return reply
      .type('application/gzip')
      .header('content-disposition', `attachment; filename="${encodeURIComponent(name)}.tar.gz"`)
      .send(tarGz(ws.confine(dir), name));
  });

  app.get('/api/jobs', async () => db.jobs().map(jobView));
  app.get('/api/jobs/:id', async (req) => jobView(jobOf(req.params)));
  app.get('/api/jobs/:id/events', (req, reply) => {
    const job = jobOf(req.params);
    streamEvents(req, reply, db, jobs, () => [job.id]);
  });
  app.post('/api/jobs/:id/stop', async (req) => {
    const job = jobOf(req.params);
    if (!jobs.stop(job.id)) throw new StudioHttpError(409, `job ${job.id} is not running`);
    return { jobId: job.id, stopping: true };
  });
}

/** Written into every run folder the studio creates: deletion removes only folders that carry it. */
const RUN_MARKER = '.alembic-studio-run';
const STUDIO_RUN = {
  name: 'a run folder the studio created',
  is: (dir: string) => existsSync(path.join(dir, RUN_MARKER)),
};

/** Creates a new run's folder with the studio's marker in it. */
function createRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, RUN_MARKER), 'created by alembic studio\n');
}

/** The export the latest finished export job wrote. */
function newestExport(run: RunRow, runJobs: JobRow[]): string | undefined {
  const done = runJobs.find((j) => j.kind === 'export' && j.status === 'done');
  const out = (done?.result as ExportResult | undefined)?.outDir;
  return out ?? exportDirs(run)[0];
}

function predictInput(body: unknown): PipelineInput {
  const b = (body ?? {}) as Record<string, unknown>;
  const str = (k: string) =>
    typeof b[k] === 'string' && (b[k] as string) !== '' ? (b[k] as string) : undefined;
  if (str('question') && str('context')) return { question: str('question')!, context: str('context')! };
  if (str('text_a') && str('text_b')) return { text: str('text_a')!, text_pair: str('text_b')! };
  if (str('text')) return str('text')!;
  throw new UserError('predict: give {"text": …}, or {"text_a": …, "text_b": …} for a pair');
}

function curlBody(task: TrainConfig['task']): unknown {
  if (task === 'text_pair_classification' || task === 'text_matching')
    return { inputs: { text: '怎么退货', text_pair: '如何办理退货' } };
  if (task === 'reading_comprehension')
    return { inputs: { question: '谁在北京工作？', context: '张三在北京工作。' } };
  return { inputs: '房间很干净' };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
