/**
 * `alembic studio`'s API end to end on tiny generated data: every route's happy path around a one-epoch
 * BOW run (upload → preview → split → advice → schema → validate → train with its SSE events → metrics,
 * report → export with measured QPS → try it → curl → download → data distillation → delete), then stop
 * and resume, and a restart of the studio on the same workspace that finds the run and the job it
 * interrupted, and resumes it from its checkpoint.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { list } from 'tar';
import { createStudio, type Studio } from '../src/studio/studio-server.js';
import { StudioDb } from '../src/studio/studio-db.js';
import { tempDir, writeSentimentSplits } from './helpers/tiny-data.js';

type Json = Record<string, unknown>;

async function call(s: Studio, method: string, url: string, body?: unknown) {
  const raw = Buffer.isBuffer(body);
  const r = await s.app.inject({
    method: method as 'GET',
    url,
    payload: body === undefined ? undefined : raw ? (body as Buffer) : JSON.stringify(body),
    headers:
      body === undefined ? {} : { 'content-type': raw ? 'application/octet-stream' : 'application/json' },
  });
  const parsed = (() => {
    try {
      return JSON.parse(r.body) as unknown;
    } catch {
      return r.body;
    }
  })();
  return { status: r.statusCode, body: parsed as Json & unknown[], raw: r.rawPayload, headers: r.headers };
}

async function ok(s: Studio, method: string, url: string, body?: unknown) {
  const r = await call(s, method, url, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const tinyConfig = (over: Json = {}) => ({
  task: 'text_classification',
  dataset: { train: 'data/train.tsv', dev: 'data/dev.tsv', test: 'data/test.tsv', max_len: 16 },
  model: { net: 'bow', embedding_dim: 16, hidden_size: 16 },
  trainer: { epochs: 1, batch_size: 16, threads: 1, learning_rate: 0.01, ...over },
});

/** Reads an SSE stream until an event of one of `until` types arrives; returns the events' data. */
async function readEvents(url: string, until: string[], timeoutMs = 120_000): Promise<Json[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const res = await fetch(url, { signal: ac.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events: Json[] = [];
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString('utf8');
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const e = JSON.parse(data.slice(6)) as Json;
        events.push(e);
        if (until.includes(String(e.type))) return events;
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

describe('studio API, happy paths', () => {
  let s: Studio;
  let ws: string;
  let address: string;
  let runId: number;
  let src: string;

  before(async () => {
    ws = tempDir('studio-ws-');
    src = tempDir('studio-src-');
    writeSentimentSplits(src, { train: 240, dev: 40, test: 40 });
    s = await createStudio({ workspace: ws, benchSeconds: 0.2, uiDir: path.join(src, 'no-ui') });
    address = await s.listen(0);
  });
  after(() => s.close());

  it('health, the page placeholder, and unknown routes', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.deepEqual(await ok(s, 'GET', '/api/health'), { version: pkg.version });
    const page = await call(s, 'GET', '/');
    assert.match(String(page.body), /npm run build:studio/);
    const missing = await call(s, 'GET', '/api/nothing');
    assert.equal(missing.status, 404);
    assert.match(String(missing.body.error), /no such route/);
  });

  it('uploads, lists, previews and splits data files', async () => {
    for (const n of ['train', 'dev', 'test']) {
      const bytes = readFileSync(path.join(src, `${n}.tsv`));
      assert.deepEqual(await ok(s, 'POST', `/api/files?name=${n}.tsv`, bytes), {
        name: `${n}.tsv`,
        size: bytes.length,
      });
    }
    const files = (await ok(s, 'GET', '/api/files')) as unknown as { name: string; size: number }[];
    assert.deepEqual(
      files.map((f) => f.name),
      ['dev.tsv', 'test.tsv', 'train.tsv'],
    );

    const p = await ok(s, 'GET', '/api/files/train.tsv/preview');
    const lines = readFileSync(path.join(src, 'train.tsv'), 'utf8').trim().split('\n');
    const counts: Record<string, number> = {};
    for (const l of lines) counts[l.split('\t')[1]] = (counts[l.split('\t')[1]] ?? 0) + 1;
    assert.equal(p.task, 'text_classification');
    assert.equal(p.format, 'tsv');
    assert.deepEqual(p.labels, counts);
    assert.deepEqual(
      p.rows,
      lines.slice(0, 20).map((l) => l.split('\t')),
    );
    const checks = p.checks as { rule: string; ok: boolean; message: string }[];
    const perLabel = checks.find((c) => c.rule === 'min_per_label')!;
    // 240 examples over two labels: each has fewer than 200.
    assert.equal(perLabel.ok, false);
    assert.equal(checks.find((c) => c.rule === 'dev_test_split')!.ok, true);

    const split = await ok(s, 'POST', '/api/files/train.tsv/split', { dev: 0.25, test: 0.25, seed: 7 });
    assert.deepEqual(split, { train: 'train.train.tsv', dev: 'train.dev.tsv', test: 'train.test.tsv' });
    const parts = ['train', 'dev', 'test'].map((k) =>
      readFileSync(path.join(ws, 'data', `train.${k}.tsv`), 'utf8')
        .trim()
        .split('\n'),
    );
    assert.deepEqual([...parts.flat()].sort(), [...lines].sort());
    assert.deepEqual(
      parts.map((x) => x.length),
      [120, 60, 60],
    );
    // Stratified: each part keeps the label mix within one example.
    for (const part of parts) {
      const share = part.filter((l) => l.endsWith('\t正面')).length / part.length;
      assert.ok(Math.abs(share - counts['正面'] / lines.length) <= 1 / part.length + 1e-9);
    }
    const again = await call(s, 'POST', '/api/files/train.tsv/split', { dev: 0.25, test: 0.25, seed: 7 });
    assert.equal(again.status, 409);
    const pair = 'a text\tanother text\t1\nmore\ttext\t0\n'.repeat(3);
    writeFileSync(path.join(ws, 'data', 'pairs.tsv'), pair);
    assert.equal((await ok(s, 'GET', '/api/files/pairs.tsv/preview')).task, 'pair_classification');
    writeFileSync(path.join(ws, 'data', 'ner.tsv'), '张 三 在 北 京\tB-PER I-PER O B-LOC I-LOC\n'.repeat(3));
    const ner = await ok(s, 'GET', '/api/files/ner.tsv/preview');
    assert.equal(ner.task, 'sequence_labeling');
    assert.deepEqual(ner.labels, { PER: 3, LOC: 3 });
  });

  it('advises from the form, with the labels read from the file', async () => {
    const a = await ok(s, 'POST', '/api/advice', {
      file: 'train.tsv',
      qps: 200,
      hardware: 'cpu',
      accuracy_goal: 0.9,
    });
    const steps = a.steps as { step: { task: string }; scheme: { serve: unknown[] }; outcomes: unknown[] }[];
    assert.equal(steps[0].step.task, 'text_classification');
    assert.ok(steps[0].scheme.serve.length > 0);
    assert.ok(steps[0].outcomes.length > 0);
    const bad = await call(s, 'POST', '/api/advice', { task: 'text_classification', labelled: 10, qsp: 5 });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /qsp/);
  });

  it('gives the config template and schema, and validates as the CLI does', async () => {
    const r = await ok(s, 'GET', '/api/schema?task=text_classification&net=bow');
    const template = r.template as Json;
    assert.equal(template.task, 'text_classification');
    assert.equal((template.model as Json).net, 'bow');
    const schema = r.schema as { properties: Json };
    assert.ok(['task', 'dataset', 'model', 'trainer'].every((k) => k in schema.properties));
    assert.deepEqual(await ok(s, 'POST', '/api/config/validate', { config: tinyConfig() }), {
      ok: true,
      errors: [],
    });
    const bad = await ok(s, 'POST', '/api/config/validate', { config: tinyConfig({ epocs: 2 }) });
    assert.equal(bad.ok, false);
    assert.match((bad.errors as string[])[0], /^config: trainer: .*epocs.*did you mean "epochs"/);
    const missing = await ok(s, 'POST', '/api/config/validate', {
      config: { ...tinyConfig(), dataset: { train: 'data/nope.tsv' } },
    });
    assert.match((missing.errors as string[])[0], /dataset\.train: data\/nope\.tsv does not exist/);
  });

  it('trains a run as a job, streaming its events, and lists it with its metrics', async () => {
    const r = await ok(s, 'POST', '/api/runs', { name: 'bow-1', config: tinyConfig() });
    runId = r.runId as number;
    const events = await readEvents(`${address}/api/runs/${runId}/events`, ['done', 'failed']);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'started');
    assert.equal(types.at(-1), 'done', JSON.stringify(events.at(-1)));
    assert.ok(
      ['step', 'eval', 'checkpoint', 'train_end'].every((t) => types.includes(t)),
      types.join(),
    );
    const steps = events.filter((e) => e.type === 'step');
    assert.equal(steps.at(-1)!.step, steps.at(-1)!.totalSteps);
    assert.equal(steps.at(-1)!.totalSteps, Math.ceil(240 / 16));

    // A second stream replays the same stored events.
    const replay = await readEvents(`${address}/api/runs/${runId}/events`, ['done']);
    assert.deepEqual(replay, events);

    const runs = (await ok(s, 'GET', '/api/runs')) as unknown as Json[];
    assert.equal(runs.length, 1);
    assert.equal(runs[0].name, 'bow-1');
    assert.equal(runs[0].status, 'done');
    const metrics = (await ok(s, 'GET', `/api/runs/${runId}/metrics`)) as unknown as Json[];
    const evals = metrics.filter((m) => m.type === 'eval');
    const best = evals.reduce((a, b) => ((b.accuracy as number) > (a.accuracy as number) ? b : a));
    assert.equal((runs[0].best as Json).accuracy, best.accuracy);
    const one = await ok(s, 'GET', `/api/runs/${runId}`);
    assert.equal(one.model, path.join('runs', 'bow-1', 'best'));
    assert.equal((one.jobs as Json[])[0].status, 'done');
    const job = await ok(s, 'GET', `/api/jobs/${r.jobId}`);
    assert.equal(job.status, 'done');
    assert.equal((job.result as Json).steps, 15);
    assert.equal(((await ok(s, 'GET', '/api/jobs')) as unknown as Json[]).length, 1);
    const report = await call(s, 'GET', `/api/runs/${runId}/report`);
    assert.equal(report.status, 200);
    assert.match(String(report.headers['content-type']), /text\/html/);
    const dup = await call(s, 'POST', '/api/runs', { name: 'bow-1', config: tinyConfig() });
    assert.equal(dup.status, 409);
  });

  it('exports with measured QPS and dev agreement, predicts, prints curl, downloads archives', async () => {
    const { jobId } = await ok(s, 'POST', `/api/runs/${runId}/export`, { int8: false });
    await s.ctx.jobs.waitFor(jobId as number);
    const job = await ok(s, 'GET', `/api/jobs/${jobId}`);
    assert.equal(job.status, 'done', String(job.error));
    const result = job.result as Json;
    assert.ok((result.qps_b1 as number) > 0 && (result.qps_b32 as number) > 0);
    // The fp32 graph computes what the trained model computes: the same label for every dev example.
    assert.equal(result.dev_agreement, 1);
    assert.equal(result.dev_examples, 40);

    const p = await ok(s, 'POST', `/api/runs/${runId}/predict`, { text: '房间很好很满意' });
    assert.equal(p.backend, 'onnx');
    const top = (p.result as { label: string; score: number }[])[0];
    assert.ok(['正面', '负面'].includes(top.label) && top.score >= 0.5 && top.score <= 1);
    assert.equal((await call(s, 'POST', `/api/runs/${runId}/predict`, {})).status, 400);

    const c = await ok(s, 'GET', `/api/runs/${runId}/curl`);
    assert.match(String(c.serve), /^alembic serve --model 'bow-1=.*export-fp32' --port 8080$/);
    assert.match(String(c.curl), /^curl -s localhost:8080\/predict .*"inputs"/);

    for (const what of ['model', 'export']) {
      const d = await call(s, 'GET', `/api/runs/${runId}/download?what=${what}`);
      assert.equal(d.status, 200);
      assert.match(
        String(d.headers['content-disposition']),
        new RegExp(`bow-1-${what === 'model' ? 'model' : 'export-fp32'}\\.tar\\.gz`),
      );
      const names: string[] = [];
      await new Promise<void>((resolve, reject) =>
        Readable.from(d.raw)
          .pipe(list({ onReadEntry: (e) => void names.push(e.path) }))
          .on('finish', resolve)
          .on('error', reject),
      );
      const top = what === 'model' ? 'bow-1-model' : 'bow-1-export-fp32';
      assert.ok(names.includes(`${top}/alembic-model.json`), names.join(', '));
      assert.ok(names.every((n) => n.startsWith(`${top}/`) || n === top));
      if (what === 'export') assert.ok(names.includes(`${top}/model.onnx`), names.join(', '));
    }
    assert.equal((await call(s, 'GET', `/api/runs/${runId}/download?what=../../etc`)).status, 400);
  });

  it('distils the run (data distillation) into a student run', async () => {
    const students = [
      {
        name: 'bow',
        gold_only: false,
        config: {
          task: 'text_classification',
          dataset: { tokenizer: { type: 'char' }, max_len: 16 },
          model: { net: 'bow', embedding_dim: 16, hidden_size: 16 },
          trainer: { epochs: 1, batch_size: 32, learning_rate: 0.01, threads: 1 },
        },
      },
    ];
    const r = await ok(s, 'POST', `/api/runs/${runId}/distill`, {
      kind: 'data',
      overrides: { augment: { ratio: 1 }, students, report: { qps_examples: 10, qps_rounds: 1 } },
    });
    await s.ctx.jobs.waitFor(r.jobId as number);
    const job = await ok(s, 'GET', `/api/jobs/${r.jobId}`);
    assert.equal(job.status, 'done', String(job.error));
    const student = await ok(s, 'GET', `/api/runs/${r.runId}`);
    assert.equal(student.kind, 'distill-data');
    assert.equal(student.parent, runId);
    assert.equal(
      student.model,
      path.join('runs', 'bow-1-data-distilled', 'student', 'bow', 'distilled', 'best'),
    );
    const p = await ok(s, 'POST', `/api/runs/${r.runId}/predict`, { text: '很好' });
    assert.equal(p.backend, 'torch');
    const model = await call(s, 'POST', `/api/runs/${runId}/distill`, { kind: 'model' });
    assert.equal(model.status, 400);
    assert.match(String(model.body.error), /Transformer teacher/);
  });

  it('deletes a run only with its name as confirmation, and only what the studio made', async () => {
    const runs = (await ok(s, 'GET', '/api/runs')) as unknown as Json[];
    const student = runs.find((r) => r.kind === 'distill-data')!;
    const refused = await call(s, 'DELETE', `/api/runs/${student.id}?confirm=wrong`);
    assert.equal(refused.status, 400);
    await ok(s, 'DELETE', `/api/runs/${student.id}?confirm=${encodeURIComponent(String(student.name))}`);
    await ok(s, 'DELETE', `/api/runs/${runId}?confirm=bow-1`);
    assert.deepEqual(await ok(s, 'GET', '/api/runs'), []);
    // The data files the runs were trained on are still there.
    const files = (await ok(s, 'GET', '/api/files')) as unknown as { name: string }[];
    assert.ok(files.some((f) => f.name === 'train.tsv'));
    assert.equal((await call(s, 'GET', `/api/runs/${runId}`)).status, 404);
  });
});

describe('studio jobs: stop, resume, and a restart of the studio', () => {
  let ws: string;
  before(() => {
    ws = tempDir('studio-restart-');
    mkdirSync(path.join(ws, 'data'));
    writeSentimentSplits(path.join(ws, 'data'), { train: 480, dev: 40, test: 40 });
  });

  /** Resolves with the first event of `type` the studio's jobs send. */
  const nextEvent = (s: Studio, type: string) =>
    new Promise<void>((resolve) => {
      const off = s.ctx.jobs.subscribe((e) => {
        if (e.type === type) {
          off();
          resolve();
        }
      });
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
      const first = new Promise<number>((resolve) => {
        const off = s.ctx.jobs.subscribe((e) => {
          if (e.jobId === third.jobId && e.type === 'step') {
            off();
            resolve(e.data.step as number);
          }
        });
      });
      // Resumed from the checkpoint, not from step 1.
      assert.ok((await first) > 5);
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
