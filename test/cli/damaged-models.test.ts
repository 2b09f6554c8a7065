/**
 * Damaged or mismatched model files are refused at load with the file and tensor named, predictions never
 * carry NaN, and the commands around them end in one line: garbled weights (safetensors and ONNX), a
 * vocab.txt bigger than the embedding, NaN computed at run time (predict fails; the service answers that
 * request with a 500), `predict | head -1`, stdin copies left behind, eval/export of an exported directory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readSafetensors, writeSafetensors } from '../../src/engine/safetensors.js';
import { exportModelDir } from '../../src/deploy/export/export-dir.js';
import { checkOnnxModel } from '../../src/deploy/onnx/check-model.js';
import { OnnxGraphBuilder } from '../../src/deploy/onnx/graph-builder.js';
import { int } from '../../src/deploy/onnx/attributes.js';
import { decodeModel } from '../../src/deploy/onnx/schema.js';
import { OnnxPredictor } from '../../src/deploy/onnx-predictor.js';
import type { PredictInput, PredictOutput, Predictor } from '../../src/deploy/predictor.js';
import { PredictionServer } from '../../src/deploy/serve/server.js';
import { writePredictions } from '../../src/tasks/write-predictions.js';
import { loadModelDir } from '../../src/train/model-dir.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tiny-data.js';
import { trainTinyBow } from '../helpers/tiny-export.js';

const CLI = fileURLToPath(new URL('../../bin/alembic.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function alembic(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(opts.stdin ?? '');
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Exit 2 with exactly one `alembic: …` line, no stack frame, and every expected piece in it. */
function assertOneLine(r: Run, ...pieces: string[]): void {
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^alembic: /);
  for (const p of pieces) assert.ok(lines[0].includes(p), `${JSON.stringify(p)} not in ${lines[0]}`);
}

async function rejectsUserError(p: Promise<unknown>, ...pieces: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    for (const piece of pieces) assert.ok(e.message.includes(piece), `${piece} not in ${e.message}`);
    return true;
  });
}

const NAN_BYTES = Buffer.from(new Float32Array([NaN]).buffer);

describe('damaged models', () => {
  let dir: string;
  let modelDir: string;
  let exportDir: string;
  let input: string;

  before(async () => {
    const tiny = await trainTinyBow({ examples: 200, epochs: 1, width: 16, maxLen: 32, testExamples: 400 });
    ({ dir, modelDir, exportDir } = tiny);
    const files = tiny.files;
    // Texts only (predict input): the test split without its labels.
    input = path.join(dir, 'input.txt');
    const texts = readFileSync(files.test, 'utf8').trim().split('\n');
    writeFileSync(input, texts.map((l) => l.split('\t')[0]).join('\n') + '\n');
  });

  /** A copy of `from` named `name`, for one test to damage. */
  const copy = (from: string, name: string) => {
    const to = path.join(dir, name);
    cpSync(from, to, { recursive: true });
    return to;
  };

  it('refuses a model.safetensors whose bytes decode to NaN, naming file and tensor (load, predict, export)', async () => {
    const bad = copy(modelDir, 'nan-safetensors');
    const file = path.join(bad, 'model.safetensors');
    const { tensors, metadata } = readSafetensors(file);
    const [name, t] = [...tensors].find(([, v]) => v.dtype === 'F32' && v.data.length >= 8)!;
    t.data.set(NAN_BYTES, 4); // element 1
    writeSafetensors(file, tensors, metadata);
    assert.throws(
      () => loadModelDir(bad),
      (e: unknown) => e instanceof UserError && e.message.includes(file) && e.message.includes(`"${name}"`),
    );
    assertOneLine(await alembic(['predict', '-m', bad, '-i', input]), file, name, 'NaN');
    const out = path.join(dir, 'nan-export');
    await rejectsUserError(exportModelDir(bad, out), name);
    assert.equal(existsSync(out), false, 'no NaN export was written');
  });

  it('refuses an exported model.onnx with a garbled initializer, naming file and initializer', async () => {
    const bad = copy(exportDir, 'nan-onnx');
    const file = path.join(bad, 'model.onnx');
    const bytes = readFileSync(file);
    const graph = decodeModel(bytes).graph as { initializer: { name: string; rawData?: Uint8Array }[] };
    const init = graph.initializer.find((t) => (t.rawData?.length ?? 0) >= 64)!;
    // Garble the bytes in place, as a bad disk or a truncated copy would: the protobuf still parses.
    const at = bytes.indexOf(Buffer.from(init.rawData!));
    assert.ok(at > 0);
    NAN_BYTES.copy(bytes, at + 8);
    writeFileSync(file, bytes);
    await rejectsUserError(OnnxPredictor.open(bad), file, `"${init.name}"`, 'NaN');
    assertOneLine(await alembic(['predict', '-m', bad, '-i', input]), file, init.name);
  });

  it('export refuses to write a graph holding a non-finite value', () => {
    const g = new OnnxGraphBuilder('nan');
    const x = g.input('x', 'float32', [1]);
    // A one-value -Infinity is a legitimate mask fill (masked max); in a weight tensor it is damage.
    const fill = g.constant(new Float32Array([-Infinity]), [], 'fill');
    const w = g.constant(new Float32Array([1, Infinity]), [2], 'w');
    g.output(g.op('Add', [g.op('Max', [x, fill]), w]), 'float32', [2]);
    assert.throws(
      () => checkOnnxModel(g.toModel(), 'out/model.onnx', { remedy: 'refusing to write it' }),
      (e: unknown) =>
        e instanceof UserError &&
        /out\/model\.onnx: initializer "w.*": element 1 of 2 is Infinity; refusing/.test(e.message),
    );
  });

  it('refuses an exported directory whose vocab.txt has more tokens than the embedding has rows', async () => {
    const bad = copy(exportDir, 'big-vocab');
    appendFileSync(
      path.join(bad, 'vocab.txt'),
      Array.from({ length: 40 }, (_, i) => `extra${i}`).join('\n') + '\n',
    );
    await rejectsUserError(OnnxPredictor.open(bad), path.join(bad, 'vocab.txt'), 'rows');
    const [predict, bench] = await Promise.all([
      alembic(['predict', '-m', bad, '-i', input]),
      alembic(['bench', '-m', bad, '--no-http', '--seconds', '0.1', '--warmup', '0.1']),
    ]);
    assertOneLine(predict, 'vocab.txt', 'rows');
    assertOneLine(bench, 'vocab.txt', 'rows');
  });

  /** A graph with the classifier's inputs whose probabilities are sqrt(-1) = NaN, computed at run time. */
  function nanGraph(vocabRows: number): Uint8Array {
    const g = new OnnxGraphBuilder('nan-at-run-time');
    const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
    g.input('attention_mask', 'int64', ['batch', 'seq']);
    const table = g.gather({ data: new Float32Array(vocabRows * 2).fill(-1), dims: [vocabRows, 2] }, ids);
    const first = g.op('Gather', [table, g.constant(new BigInt64Array([0n]), [], 'zero')], { axis: int(1) });
    g.output(g.op('Sqrt', [first]), 'float32', ['batch', 2], { as: 'probabilities' });
    return g.toModel();
  }

  it('a NaN computed at run time fails predict and that service request (500), never 200 with nulls', async () => {
    const rows = readFileSync(path.join(exportDir, 'vocab.txt'), 'utf8').trim().split('\n').length;
    const predictor = await OnnxPredictor.open(exportDir, { modelBytes: nanGraph(rows) });
    await rejectsUserError(predictor.predictExamples([{ text: '很好' }]), 'NaN', 'probabilities');
    // The server owns the predictor from here and releases it on close.
    const server = await PredictionServer.create({ models: [{ name: 'nan', predictor }] });
    const base = await server.listen(0, '127.0.0.1');
    try {
      const res = await fetch(base + '/predict', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts: ['很好'] }),
      });
      assert.equal(res.status, 500);
      const body = (await res.json()) as { error: string };
      assert.match(body.error, /NaN/);
    } finally {
      await server.close();
    }
  });

  it('a NaN for one input fails only its own request, not the others batched with it', async () => {
    const fake: Predictor = {
      task: 'text_classification',
      labels: ['a', 'b'],
      predictBatch: async (inputs: PredictInput[]): Promise<PredictOutput[]> =>
        inputs.map((x) => ({ labels: ['a'], probabilities: x.text === 'bad' ? [NaN, NaN] : [0.9, 0.1] })),
      close: async () => {},
    };
    // A long batching wait puts both requests in one batch.
    const server = await PredictionServer.create({
      models: [{ name: 'm', predictor: fake }],
      maxWaitMs: 200,
    });
    const base = await server.listen(0, '127.0.0.1');
    try {
      const post = (text: string) =>
        fetch(base + '/predict', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ texts: [text] }),
        });
      const [good, bad] = await Promise.all([post('good'), post('bad')]);
      assert.equal(good.status, 200);
      assert.equal(bad.status, 500);
      assert.doesNotMatch(await bad.text(), /null/);
    } finally {
      await server.close();
    }
  });

  it('predict never writes a prediction holding NaN (libtorch path)', async () => {
    const written: string[] = [];
    await assert.rejects(
      writePredictions(
        { formatPrediction: (_e: number, p: { probabilities: number[] }) => JSON.stringify(p) },
        [1, 2, 3],
        2,
        (chunk) => chunk.map((e) => ({ probabilities: e === 3 ? [NaN] : [1] })),
        (t) => written.push(t),
      ),
      (e: unknown) => e instanceof UserError && /input 3: .*NaN/.test(e.message),
    );
    assert.equal(written.join('').includes('null'), false);
  });

  it('`predict | head -1` ends quietly with exit 0 when the reader closes the pipe', async () => {
    const big = path.join(dir, 'big-input.txt');
    writeFileSync(big, readFileSync(input, 'utf8').repeat(40));
    const r = await new Promise<Run>((done) => {
      const child = spawn(process.execPath, [
        CLI,
        'predict',
        '-m',
        exportDir,
        '-i',
        big,
        '--batch-size',
        '8',
      ]);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => done({ code, stdout: '', stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('predict from stdin with a broken model leaves no copy of the input behind', async () => {
    const bad = copy(exportDir, 'garbage-onnx');
    writeFileSync(path.join(bad, 'model.onnx'), 'not a model');
    const tmp = tempDir('alembic-tmpdir-');
    const r = await alembic(['predict', '-m', bad], { stdin: '很好\n', env: { TMPDIR: tmp } });
    assertOneLine(r, 'model.onnx');
    assert.deepEqual(
      readdirSync(tmp).filter((n) => n.startsWith('alembic-')),
      [],
    );
  });

  it('eval and export of an exported directory say what it is and what to give instead', async () => {
    const data = path.join(dir, 'dev.tsv');
    for (const args of [
      ['eval', '-m', exportDir, '-d', data],
      ['export', '-m', exportDir, '-o', path.join(dir, 'export-again')],
    ]) {
      const r = await alembic(args);
      assertOneLine(r, exportDir, 'exported directory', 'trained model directory');
      assert.doesNotMatch(r.stderr, /model\.safetensors/);
    }
  });
});
