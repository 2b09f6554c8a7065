import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { manualSeed } from '../../src/engine/create.js';
import { noGrad, tidy } from '../../src/engine/scope.js';
import { exportModelDir } from '../../src/deploy/export/export-dir.js';
import { exportModel, exporterFor } from '../../src/deploy/export/exporter.js';
import { padIds } from '../../src/deploy/export/io.js';
import { readDeployManifest } from '../../src/deploy/export/manifest.js';
import { decodeModel, loadSession, type TensorValue } from '../../src/deploy/onnx/index.js';
import { DataType } from '../../src/deploy/onnx/schema.js';
import { OnnxPredictor } from '../../src/deploy/onnx-predictor.js';
import { openPredictor } from '../../src/deploy/open-predictor.js';
import { TorchPredictor } from '../../src/deploy/torch-predictor.js';
import type { ClassificationExample } from '../../src/data/readers/types.js';
import { ClassificationTask, type ClassifierModel } from '../../src/tasks/classification.js';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const tmp = tempDir('alembic-export-');
after(() => rmSync(tmp, { recursive: true, force: true }));

const NETS = ['bow', 'cnn', 'gru', 'lstm', 'transformer'] as const;
const KINDS = {
  single: 'text_classification',
  pair: 'text_pair_classification',
  multi: 'multi_label_classification',
} as const;
const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho'.split(' ');

/** `length` words, one token each under the whitespace tokenizer (unseen ones become [UNK]). */
function randomText(rng: Rng, length: number): string {
  return Array.from({ length }, () => WORDS[rng.int(WORDS.length)]).join(' ');
}

/** Small random-init model of `net` for `task`; single-text models also take two numeric features. */
function tinyModel(net: (typeof NETS)[number], task: keyof typeof KINDS, pooling: 'cls' | 'mean' = 'cls') {
  const numeric = task === 'single' ? ['clicks', 'age'] : [];
  const config = parseConfig(
    {
      task: KINDS[task],
      dataset: {
        train: 'unused.tsv',
        max_len: 12,
        numeric_features: numeric,
        tokenizer: { type: 'whitespace' },
      },
      model: {
        net,
        embedding_dim: 12,
        hidden_size: 16,
        num_filters: 6,
        kernel_widths: [2, 4],
        num_layers: 2,
        num_heads: 2,
        ffn_size: 24,
        dropout: 0.1,
        pooling,
      },
      trainer: { output_dir: 'unused' },
    },
    path.join(tmp, 'config.json'),
  );
  const rng = new Rng(3);
  const train: ClassificationExample[] = Array.from({ length: 40 }, (_, i) => ({
    text: randomText(rng, 2 + (i % 9)),
    textB: task === 'pair' ? randomText(rng, 1 + (i % 6)) : undefined,
    label: task === 'multi' ? undefined : ['x', 'y', 'z'][i % 3],
    labels: task === 'multi' ? [['x'], ['y', 'z'], [], ['x', 'z']][i % 4] : undefined,
    features: { clicks: i * 3, age: 20 + (i % 7) },
  }));
  const t = new ClassificationTask(config);
  t.fit(train);
  manualSeed(7);
  const model = t.buildModel() as ClassifierModel;
  model.eval();
  return { task: t, model, config };
}

/** Torch logits for a batch, and the same batch as ONNX feeds (padded by the exporter's own helper). */
function batchOf(task: ClassificationTask, model: ClassifierModel, examples: ClassificationExample[]) {
  const features = examples.map((e) => task.encode(e));
  const torch = noGrad(() => tidy(() => model.logits(features).toArray()));
  const feeds: Record<string, TensorValue> = {};
  const typeIds = features.some((f) => f.a.typeIds) ? features.map((f) => f.a.typeIds) : undefined;
  const a = padIds(
    features.map((f) => f.a.ids),
    0,
    typeIds,
  );
  Object.assign(feeds, { input_ids: a.ids, attention_mask: a.mask });
  if (a.typeIds) feeds.token_type_ids = a.typeIds;
  if (features[0].b) {
    const b = padIds(
      features.map((f) => f.b!.ids),
      0,
    );
    Object.assign(feeds, { input_ids_b: b.ids, attention_mask_b: b.mask });
  }
  if (features[0].numeric) {
    feeds.numeric_features = {
      data: Float32Array.from(examples.flatMap((e) => [e.features!.clicks, e.features!.age])),
      dims: [examples.length, 2],
    };
  }
  return { torch, feeds, maxLen: Math.max(...features.map((f) => f.a.ids.length)) };
}

const maxDiffByNet = new Map<string, number>();
after(() => {
  const rows = [...maxDiffByNet].map(([net, d]) => `${net} ${d.toExponential(2)}`);
  console.log(`# ONNX vs libtorch, max |logit diff| per net: ${rows.join(', ')}`);
});

const VARIANTS = [
  ...NETS.map((net) => ({ net, pooling: 'cls' as const, fused: true, name: net as string })),
  { net: 'transformer' as const, pooling: 'mean' as const, fused: true, name: 'transformer (mean pooling)' },
  // The standard-op attention that int8 exports use.
  { net: 'transformer' as const, pooling: 'cls' as const, fused: false, name: 'transformer (standard ops)' },
];

/** How many onnxruntime fused Attention nodes a serialised model holds. */
function fusedAttentionNodes(bytes: Uint8Array): number {
  const graph = decodeModel(bytes).graph as { node: { opType: string; domain?: string }[] };
  return graph.node.filter((n) => n.opType === 'Attention' && n.domain === 'com.microsoft').length;
}

for (const { net, pooling, fused, name } of VARIANTS) {
  test(`${name}: ONNX logits and probabilities equal libtorch's for single, pair and multi-label`, async () => {
    for (const kind of Object.keys(KINDS) as (keyof typeof KINDS)[]) {
      const { task, model } = tinyModel(net, kind, pooling);
      const exported = exportModel(
        { manifest: { task: KINDS[kind], net } as never, task, model },
        { fusedKernels: fused },
      );
      const expectFused = net === 'transformer' && fused ? 2 : 0; // one per layer
      assert.equal(fusedAttentionNodes(exported.bytes), expectFused, `${name}: fused Attention nodes`);
      const names = exported.section.inputs.map((v) => v.name);
      const expectedInputs =
        kind === 'pair'
          ? net === 'transformer'
            ? ['input_ids', 'attention_mask', 'token_type_ids']
            : ['input_ids', 'attention_mask', 'input_ids_b', 'attention_mask_b']
          : kind === 'single'
            ? ['input_ids', 'attention_mask', 'numeric_features']
            : ['input_ids', 'attention_mask'];
      assert.deepEqual(names, expectedInputs, `${net}/${kind} inputs`);
      const session = await loadSession(exported.bytes);
      const rng = new Rng(11);
      for (const batchSize of [1, 5]) {
        // Lengths 1 … 14 (cut at max_len 12): rows of one batch are padded differently, some below the
        // CNN's widest kernel.
        const examples: ClassificationExample[] = Array.from({ length: batchSize }, (_, i) => ({
          text: randomText(rng, batchSize === 1 ? 6 : [1, 14, 3, 7, 2][i]),
          textB: kind === 'pair' ? randomText(rng, [5, 1, 9, 2, 4][i]) : undefined,
          features: { clicks: rng.int(100), age: 18 + rng.int(50) },
        }));
        const { torch, feeds, maxLen } = batchOf(task, model, examples);
        if (batchSize === 5) assert.equal(maxLen, 12, 'one row is cut at max_len, the others padded');
        const out = await session.run(feeds);
        const labels = task.labels.names.length;
        assert.deepEqual(out.logits.dims, [batchSize, labels]);
        const logits = out.logits.data as Float32Array;
        let diff = 0;
        torch.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - logits[i]))));
        assert.ok(diff <= 1e-4, `${net}/${kind} batch ${batchSize}: max |logit diff| ${diff}`);
        assert.ok(
          torch.some((v) => Math.abs(v) > 1e-3),
          'the logits are not trivially zero',
        );
        maxDiffByNet.set(name, Math.max(maxDiffByNet.get(name) ?? 0, diff));
        const probs = out.probabilities.data as Float32Array;
        const expected = task.probabilities(
          model,
          examples.map((e) => task.encode(e)),
        );
        expected
          .flat()
          .forEach((p, i) => assert.ok(Math.abs(p - probs[i]) <= 1e-5, `${net}/${kind} prob ${i}`));
      }
      await session.release();
    }
  });
}

test('cnn: an empty text and texts shorter than every kernel pool the same windows as libtorch', async () => {
  // The export finds a bank's real windows from a reverse cumulative sum of the mask (cnn.ts); the edge
  // cases are the texts with fewer tokens than a kernel is wide (only window 0 counts) and no tokens at all.
  const { task, model } = tinyModel('cnn', 'multi');
  const session = await loadSession(
    exportModel({ manifest: { task: KINDS.multi, net: 'cnn' } as never, task, model }).bytes,
  );
  const rng = new Rng(4);
  for (const lengths of [[0], [1], [0, 3, 1, 12, 2]]) {
    const examples = lengths.map((n) => ({ text: randomText(rng, n) }));
    const { torch, feeds } = batchOf(task, model, examples);
    const logits = (await session.run(feeds)).logits.data as Float32Array;
    const diff = Math.max(...torch.map((v, i) => Math.abs(v - logits[i])));
    assert.ok(diff <= 1e-5, `lengths ${lengths}: max |logit diff| ${diff}`);
  }
  await session.release();
});

test('padIds: right-padded int64 ids, mask and segment ids, whatever the pad id and id size', () => {
  const p = padIds([[5, 2_000_000_000, 7], [9]], 3, [[0, 1, 1], undefined]);
  assert.deepEqual(p.ids.dims, [2, 3]);
  assert.deepEqual([...(p.ids.data as BigInt64Array)], [5n, 2_000_000_000n, 7n, 9n, 3n, 3n]);
  assert.deepEqual([...(p.mask.data as BigInt64Array)], [1n, 1n, 1n, 1n, 0n, 0n]);
  assert.deepEqual([...(p.typeIds!.data as BigInt64Array)], [0n, 1n, 1n, 0n, 0n, 0n]);
  // Beyond 32 bits (no vocabulary is that large, but the writer must not wrap).
  assert.deepEqual([...(padIds([[2 ** 40]], 0).ids.data as BigInt64Array)], [2n ** 40n]);
});

test('tasks without an exporter are refused with the list of exportable ones', () => {
  assert.throws(
    () => exporterFor('text_generation'),
    (e: Error) =>
      e instanceof UserError &&
      /"text_generation" has no ONNX exporter yet/.test(e.message) &&
      /sequence_labeling/.test(e.message),
  );
});

// ---------------------------------------------------------------- a trained model, int8, the CLI

const POSITIVE = ['好', '棒', '喜欢', '满意', '优秀'];
const NEGATIVE = ['差', '烂', '讨厌', '失望', '糟糕'];
const FILLER = ['房间', '服务', '早餐', '位置', '价格', '环境', '我', '很', '的', '了', '这个'];

function sentimentLines(rng: Rng, n: number, labelled = true): string[] {
  return Array.from({ length: n }, () => {
    const positive = rng.next() < 0.5;
    const words = Array.from({ length: 2 + rng.int(8) }, () => FILLER[rng.int(FILLER.length)]);
    const cues = positive ? POSITIVE : NEGATIVE;
    words.splice(rng.int(words.length + 1), 0, cues[rng.int(cues.length)]);
    return labelled ? `${words.join('')}\t${positive ? '正面' : '负面'}` : words.join('');
  });
}

test('trained Transformer: int8 export agrees with fp32 on ≥ 99 % of dev; exported dir predicts via the CLI', async () => {
  const dir = path.join(tmp, 'trained');
  const rng = new Rng(5);
  const files = { train: path.join(tmp, 'train.tsv'), dev: path.join(tmp, 'dev.tsv') };
  writeFileSync(files.train, sentimentLines(rng, 240).join('\n') + '\n');
  writeFileSync(files.dev, sentimentLines(rng, 300).join('\n') + '\n');
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: 24 },
      // hidden 128: the attention and FFN matrices reach quantizeDynamic's 16384-weight threshold.
      model: { net: 'transformer', hidden_size: 128, num_layers: 1, num_heads: 4, ffn_size: 256, dropout: 0 },
      trainer: {
        output_dir: dir,
        epochs: 3,
        batch_size: 16,
        learning_rate: 1e-3,
        eval_step: 1000,
        threads: 1,
      },
    },
    path.join(tmp, 'trained.json'),
  );
  await train(config, { quiet: true, log: () => {} });
  const best = path.join(dir, 'best');

  const int8Dir = path.join(tmp, 'exported-int8');
  const report = await exportModelDir(best, int8Dir, { int8: true, speedSeconds: 0.2 });
  // int8 timed against fp32 on this machine: both graphs ran, at batch 1 and 32.
  assert.ok(report.speed, report.speedSkipped);
  assert.deepEqual(
    report.speed.rows.map((r) => r.batch),
    [1, 32],
  );
  assert.ok(report.speed.rows.every((r) => r.fp32 > 0 && r.int8 > 0));
  // When no matrix is large enough to quantise, the int8 graph is the fp32 one: nothing to time.
  const unquantised = await exportModelDir(best, path.join(tmp, 'exported-unquantised'), {
    int8: true,
    speedSeconds: 0.2,
    quantize: { minElements: Number.MAX_SAFE_INTEGER },
  });
  assert.equal(unquantised.quantized?.quantized.length, 0);
  // …and it is labelled fp32 (the CLI line and the demo page read this flag), not int8.
  assert.equal(unquantised.section.int8, false);
  assert.equal(unquantised.section.int8WeightBits, undefined);
  assert.equal(report.section.int8, true);
  assert.equal(unquantised.speed, undefined);
  assert.match(unquantised.speedSkipped ?? '', /no weight matrix was quantised/);
  assert.ok(report.quantized && report.quantized.quantized.length >= 6, 'q, k, v, attention out, ffn in/out');
  assert.ok(report.dev, report.devSkipped);
  assert.equal(report.dev.examples, 300);
  assert.equal(report.dev.metric, 'accuracy');
  assert.ok(report.dev.fp32 > 0.9, `the model learnt the task (dev accuracy ${report.dev.fp32})`);
  assert.ok(report.dev.agreement >= 0.99, `int8 agrees with fp32 on ${report.dev.agreement}`);
  console.log(
    `# int8 Transformer: dev accuracy ${report.dev.fp32.toFixed(4)} → ${report.dev.int8.toFixed(4)}, ` +
      `agreement ${(100 * report.dev.agreement).toFixed(2)} %`,
  );

  // Exported directory layout and manifest.
  const fp32Dir = path.join(tmp, 'exported');
  const { stdout: exportOut } = await exec(
    process.execPath,
    [path.join(ROOT, 'bin/alembic.js'), 'export', '--model', best, '--out', fp32Dir],
    { cwd: ROOT },
  );
  assert.match(exportOut, /wrote .*model\.onnx .*opset 17/);
  assert.match(exportOut, /input {2}attention_mask int64 \[batch, seq\]/);
  for (const f of ['model.onnx', 'vocab.txt', 'label_map.json', 'alembic-model.json']) {
    assert.ok(existsSync(path.join(fp32Dir, f)), f);
  }
  assert.ok(!existsSync(path.join(fp32Dir, 'model.safetensors')));
  const manifest = readDeployManifest(fp32Dir);
  assert.deepEqual(
    { file: manifest.onnx?.file, opset: manifest.onnx?.opset, int8: manifest.onnx?.int8 },
    { file: 'model.onnx', opset: 17, int8: false },
  );
  assert.deepEqual(
    manifest.onnx?.outputs.map((o) => o.name),
    ['logits', 'probabilities'],
  );
  assert.equal(readDeployManifest(int8Dir).onnx?.int8, true);

  // 7-bit weights from the CLI: every stored weight within [-63, 63], and still ≥ 99 % agreement on dev.
  const int7Dir = path.join(tmp, 'exported-int7');
  const cli = path.join(ROOT, 'bin/alembic.js');
  const { stdout: int7Out } = await exec(
    process.execPath,
    [
      cli,
      'export',
      '--model',
      best,
      '--out',
      int7Dir,
      '--int8',
      '--int8-weights',
      '7',
      '--speed-seconds',
      '0.2',
    ],
    { cwd: ROOT },
  );
  const agreement = Number(/predictions agree on ([\d.]+) %/.exec(int7Out)?.[1]);
  assert.match(
    int7Out,
    /speed on this machine \(1 onnxruntime thread, seq \d+\): int8 [\d.]+× \/ [\d.]+× the fp32 graph's QPS at batch 1 \/ 32/,
  );
  assert.ok(agreement >= 99, `7-bit int8 agrees with fp32 on ${agreement} % (${int7Out})`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const int7 = decodeModel(readFileSync(path.join(int7Dir, 'model.onnx'))) as any;
  const weights = int7.graph.initializer.filter((t: { dataType: number }) => t.dataType === DataType.INT8);
  assert.ok(weights.length >= 6);
  for (const w of weights) {
    const values = new Int8Array(w.rawData.buffer, w.rawData.byteOffset, w.rawData.length);
    assert.ok(
      values.every((v) => v >= -63 && v <= 63),
      `${w.name} holds a weight outside the 7-bit range`,
    );
  }
  await assert.rejects(
    exec(process.execPath, [cli, 'export', '--model', best, '--out', int7Dir, '--int8-weights', '7'], {
      cwd: ROOT,
    }),
    (err: { code: number; stderr: string }) =>
      err.code === 2 && /--int8-weights needs --int8/.test(err.stderr),
  );

  // The CLI's predictions from the exported directory match libtorch's from the trained one, on a machine
  // without the libtorch addon (ALEMBIC_ADDON names a missing file): deploying needs onnxruntime only.
  const inputFile = path.join(tmp, 'unlabelled.tsv');
  const texts = sentimentLines(new Rng(9), 20, false);
  writeFileSync(inputFile, texts.join('\n') + '\n');
  const noAddon = { ...process.env, ALEMBIC_ADDON: path.join(tmp, 'no-such-addon.node') };
  await assert.rejects(
    exec(process.execPath, [cli, 'predict', '--model', best, '--input', inputFile], {
      cwd: ROOT,
      env: noAddon,
    }),
    (err: { code: number; stderr: string }) =>
      err.code === 2 &&
      /the libtorch addon is not built \(.*no-such-addon\.node is missing\)/.test(err.stderr),
  );
  const { stdout } = await exec(
    process.execPath,
    [
      path.join(ROOT, 'bin/alembic.js'),
      'predict',
      '--model',
      fp32Dir,
      '--input',
      inputFile,
      '--batch-size',
      '7',
    ],
    { cwd: ROOT, env: noAddon },
  );
  const [header, ...lines] = stdout.trimEnd().split('\n');
  // The header names the probability column's labels, in order.
  assert.match(header, /^text\tlabel\tprobabilities \(\S+ \S+\)$/);
  assert.equal(lines.length, 20);
  const torch = await openPredictor(best);
  assert.ok(torch instanceof TorchPredictor);
  const expected = await torch.predictBatch(texts.map((text) => ({ text })));
  lines.forEach((line, i) => {
    const [text, label, probs] = line.split('\t');
    assert.equal(text, texts[i]);
    assert.equal(label, expected[i].labels[0], `line ${i + 1}`);
    probs
      .split(' ')
      .map(Number)
      .forEach((p, k) =>
        assert.ok(Math.abs(p - expected[i].probabilities[k]) < 2e-6, `line ${i + 1} prob ${k}`),
      );
  });

  const onnx = await openPredictor(fp32Dir, { threads: 1 });
  assert.ok(onnx instanceof OnnxPredictor);
  assert.deepEqual(onnx.labels, torch.labels);
  assert.equal(onnx.task, 'text_classification');
  const viaApi = await onnx.predictBatch(texts.slice(0, 3).map((text) => ({ text })));
  assert.deepEqual(
    viaApi.map((p) => p.labels),
    expected.slice(0, 3).map((p) => p.labels),
  );
  await onnx.close();
  await torch.close();
  assert.ok(readFileSync(path.join(fp32Dir, 'vocab.txt'), 'utf8').startsWith('[PAD]\n'));
});
