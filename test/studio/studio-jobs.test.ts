/**
 * The studio's jobs over time: a run stopped at a checkpoint and resumed, a studio that ends while a job
 * runs (the job is recorded interrupted and resumes from its checkpoint in the next studio), a studio that
 * died without closing (its 'running' job is found and marked), the warnings a run streams (collapse to
 * one class, early stopping), and model distillation of a tiny Transformer run.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { StudioDb } from '../../src/studio/studio-db.js';
import { createStudio } from '../../src/studio/studio-server.js';
import { call, nextEvent, ok, tinyConfig, type Json } from '../helpers/studio-client.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

describe('studio jobs: stop, resume, and a restart of the studio', () => {
  let ws: string;
  before(() => {
    ws = tempDir('studio-restart-');
    mkdirSync(path.join(ws, 'data'));
    writeSentimentSplits(path.join(ws, 'data'), { train: 480, dev: 40, test: 40 });
  });

  it('stops a run at a checkpoint, resumes it, and finds it interrupted after a restart', async () => {
    const config = tinyConfig({ epochs: 40, batch_size: 8, save_model_step: 5, eval_step: 60 });
    let s = await createStudio({ workspace: ws });
    const checkpoint = nextEvent(s, 'checkpoint');
    const { runId, jobId } = await ok(s, 'POST', '/api/runs', { name: 'long', config });
    await checkpoint;
    await ok(s, 'POST', `/api/runs/${runId}/stop`);
    await s.ctx.jobs.waitFor(jobId as number);
    assert.equal((await ok(s, 'GET', `/api/jobs/${jobId}`)).status, 'stopped');
    assert.equal((await ok(s, 'GET', `/api/runs/${runId}`)).status, 'stopped');
    assert.equal((await call(s, 'POST', `/api/runs/${runId}/stop`)).status, 409);

    const resumed = nextEvent(s, 'checkpoint');
    const second = await ok(s, 'POST', `/api/runs/${runId}/resume`);
    await resumed;
    // The studio ends while the resumed job runs: the job is stopped at a checkpoint, recorded interrupted.
    await s.close();

    s = await createStudio({ workspace: ws });
    try {
      const runs = (await ok(s, 'GET', '/api/runs')) as unknown as Json[];
      assert.deepEqual(
        runs.map((r) => [r.name, r.status]),
        [['long', 'interrupted']],
      );
      const job = await ok(s, 'GET', `/api/jobs/${second.jobId}`);
      assert.equal(job.status, 'interrupted');
      const third = await ok(s, 'POST', `/api/runs/${runId}/resume`);
      const first = nextEvent(s, 'step', third.jobId as number);
      // Resumed from the checkpoint, not from step 1.
      assert.ok(((await first).step as number) > 5);
      await ok(s, 'POST', `/api/runs/${runId}/stop`);
      await s.ctx.jobs.waitFor(third.jobId as number);
      assert.equal((await ok(s, 'GET', `/api/jobs/${third.jobId}`)).status, 'stopped');
    } finally {
      await s.close();
    }
  });

  it('marks a job that a crashed studio left running as interrupted', async () => {
    // A studio that died without closing leaves its job 'running' in the database.
    const db = new StudioDb(path.join(ws, '.alembic-studio'));
    const runId = db.addRun({
      name: 'crashed',
      task: 'text_classification',
      net: 'bow',
      status: 'running',
      dir: path.join(ws, 'runs', 'crashed'),
      config: tinyConfig(),
      kind: 'train',
      parent: null,
    });
    const jobId = db.addJob('train', runId, {});
    db.close();
    const s = await createStudio({ workspace: ws });
    try {
      assert.deepEqual(s.interrupted, [jobId]);
      assert.equal((await ok(s, 'GET', `/api/jobs/${jobId}`)).status, 'interrupted');
      assert.equal((await ok(s, 'GET', `/api/runs/${runId}`)).status, 'interrupted');
    } finally {
      await s.close();
    }
  });
});

describe('studio warnings and model distillation', () => {
  let ws: string;
  let files: { train: string; dev: string; test: string };
  before(() => {
    ws = tempDir('studio-warn-');
    mkdirSync(path.join(ws, 'data'));
    files = writeSentimentSplits(path.join(ws, 'data'), { train: 240, dev: 40, test: 40 });
  });

  it('streams a warning when the model collapses to one class, and when it stops early', async () => {
    // Training data of almost one class: the model answers that class for every dev example.
    const lines = readFileSync(files.train, 'utf8').trim().split('\n');
    const pos = lines.filter((l) => l.endsWith('\t正面'));
    const neg = lines.filter((l) => l.endsWith('\t负面'));
    writeFileSync(
      path.join(ws, 'data', 'skewed.tsv'),
      [...pos, ...pos, ...pos, ...neg.slice(0, 6)].join('\n') + '\n',
    );
    const s = await createStudio({ workspace: ws });
    try {
      const warnings = (jobId: number) =>
        s.ctx.db
          .events([jobId])
          .filter((e) => e.type === 'warning')
          .map((e) => e.data);
      const skewed = { ...tinyConfig(), dataset: { ...tinyConfig().dataset, train: 'data/skewed.tsv' } };
      const a = await ok(s, 'POST', '/api/runs', { name: 'skewed', config: skewed });
      await s.ctx.jobs.waitFor(a.jobId as number);
      const collapse = warnings(a.jobId as number);
      assert.equal(collapse.length, 1);
      assert.match(String(collapse[0].message), /predicts "正面" for every dev example/);

      // A learning rate too small to change anything: the dev metric never improves, and the run stops early.
      const flat = tinyConfig({
        epochs: 6,
        learning_rate: 1e-12,
        eval_step: 5,
        early_stopping: { patience: 2, patience_epochs: 0 },
      });
      const b = await ok(s, 'POST', '/api/runs', { name: 'flat', config: flat });
      await s.ctx.jobs.waitFor(b.jobId as number);
      const w = warnings(b.jobId as number).find((x) => x.earlyStop === true)!;
      const steps = ((await ok(s, 'GET', `/api/jobs/${b.jobId}`)).result as Json).steps as number;
      assert.equal(
        w.message,
        `early stopping at step ${steps} of ${6 * 15}: the dev metric stopped improving`,
      );
      assert.equal(steps, 15);
    } finally {
      await s.close();
    }
  });

  it('distils a Transformer run into a student of half its layers (model distillation)', async () => {
    const s = await createStudio({ workspace: ws });
    try {
      const config = {
        ...tinyConfig(),
        model: {
          net: 'transformer',
          num_layers: 2,
          hidden_size: 16,
          num_heads: 2,
          ffn_size: 32,
          pooling: 'mean',
        },
      };
      const t = await ok(s, 'POST', '/api/runs', { name: 'teacher', config });
      await s.ctx.jobs.waitFor(t.jobId as number);
      const d = await ok(s, 'POST', `/api/runs/${t.runId}/distill`, {
        kind: 'model',
        overrides: {
          trainer: { epochs: 1 },
          compare: { student_alone: false, timing_examples: 16, batch_sizes: [1] },
        },
      });
      await s.ctx.jobs.waitFor(d.jobId as number);
      const job = await ok(s, 'GET', `/api/jobs/${d.jobId}`);
      assert.equal(job.status, 'done', String(job.error));
      const params = (job.params as { job: { config: { student: Json } } }).job.config.student;
      assert.deepEqual(params, { layers: 1, hidden: 16, heads: 2, ffn: 32, init: 'auto' });
      const student = await ok(s, 'GET', `/api/runs/${d.runId}`);
      assert.equal(student.kind, 'distill-model');
      assert.equal(student.status, 'done');
      assert.equal(student.model, path.join('runs', 'teacher-model-distilled', 'student'));
      const metrics = (await ok(s, 'GET', `/api/runs/${d.runId}/metrics`)) as unknown as Json[];
      assert.ok(metrics.some((m) => m.type === 'eval'));
      assert.equal((await call(s, 'GET', `/api/runs/${d.runId}/report`)).status, 200);
      const p = await ok(s, 'POST', `/api/runs/${d.runId}/predict`, { text: '很好' });
      assert.equal(p.backend, 'torch');
    } finally {
      await s.close();
    }
  });
});
