/**
 * `alembic studio`'s API end to end on tiny generated data: every route's happy path around a one-epoch
 * BOW run (upload → preview → split → advice and its measurement → schema → validate → train with its SSE
 * events → metrics, report → export with measured QPS → try it → curl → download → data distillation →
 * delete). Stop, resume, restarts, warnings and model distillation are in studio-jobs.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { list } from 'tar';
import { createStudio, type Studio } from '../../src/studio/studio-server.js';
import { call, ok, readEvents, tinyConfig, type Json } from '../helpers/studio-client.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

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
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
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

  it('measures the candidates of the advice on a file as a job, with its own event stream', async () => {
    const { jobId } = await ok(s, 'POST', '/api/advice/measure', {
      file: 'train.tsv',
      dev_file: 'dev.tsv',
      candidates: ['bow'],
      budget_seconds: 4,
    });
    const events = await readEvents(`${address}/api/jobs/${jobId}/events`, ['done', 'failed']);
    assert.equal(events.at(-1)!.type, 'done', JSON.stringify(events.at(-1)));
    const job = await ok(s, 'GET', `/api/jobs/${jobId}`);
    assert.equal(job.kind, 'advise-measure');
    const report = job.result as { sample: Json; rows: { id: string; qpsBatch1: number; value: number }[] };
    assert.deepEqual(report.sample, { train: 240, dev: 40, devFrom: 'file' });
    assert.deepEqual(
      report.rows.map((r) => r.id),
      ['bow'],
    );
    assert.ok(report.rows[0].qpsBatch1 > 0 && report.rows[0].value >= 0 && report.rows[0].value <= 1);
    assert.equal((await call(s, 'POST', `/api/jobs/${jobId}/stop`)).status, 409);
  });

  it('refuses a measurement of a file that is not there', async () => {
    const bad = await call(s, 'POST', '/api/advice/measure', {
      file: 'nope.tsv',
      task: 'text_classification',
    });
    assert.equal(bad.status, 404);
    assert.match(String(bad.body.error), /no data file "nope.tsv"/);
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
    const all = (await ok(s, 'GET', '/api/jobs')) as unknown as Json[];
    assert.deepEqual(
      all.map((j) => j.kind),
      ['advise-measure', 'train'],
    );
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
