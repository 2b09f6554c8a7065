import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxGraphBuilder } from '../../../src/deploy/onnx/graph-builder.js';
import { quantizeDynamic, quantizeWeight } from '../../../src/deploy/onnx/quantize.js';
import { DataType, decodeModel } from '../../../src/deploy/onnx/schema.js';
import { loadSession } from '../../../src/deploy/onnx/session.js';
import { Rng } from '../../../src/util/rng.js';

function randoms(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

test('quantizeWeight: symmetric int8, per column or per tensor (hand-computed)', () => {
  const w = new Float32Array([1, -0.5, 0.25, 2]); // [[1, -0.5], [0.25, 2]]
  // Per column, 7-bit: column 0 scale 1/63, column 1 scale 2/63; 0.25·63 = 15.75 -> 16, -0.5·63/2 -> -16.
  const perCol = quantizeWeight(w, 2, 2, { perChannel: true, reduceRange: true });
  assert.deepEqual([...perCol.data], [63, -16, 16, 63]);
  assert.deepEqual([...perCol.scales], [Math.fround(1 / 63), Math.fround(2 / 63)]);
  // One scale 2/127 for the tensor: 1 -> 63.5 -> 64, -0.5 -> -31.75 -> -32, 0.25 -> 15.875 -> 16.
  const perTensor = quantizeWeight(w, 2, 2, { perChannel: false, reduceRange: false });
  assert.deepEqual([...perTensor.data], [64, -32, 16, 127]);
  assert.deepEqual([...perTensor.scales], [Math.fround(2 / 127)]);
  // An all-zero column keeps a finite scale and quantises to zeros.
  const zero = quantizeWeight(new Float32Array([0, 1, 0, -1]), 2, 2, { perChannel: true, reduceRange: true });
  assert.deepEqual([...zero.data], [0, 63, 0, -63]);
  assert.equal(zero.scales[0], 1);
});

/** A random 256x256 MLP classifier: x[batch,256] -> 256x256 -> ReLU -> 256x10 logits. */
function buildMlp(rng: Rng): OnnxGraphBuilder {
  const g = new OnnxGraphBuilder('mlp');
  const x = g.input('x', 'float32', ['batch', 256]);
  const w0 = {
    data: randoms(rng, 256 * 256, Math.sqrt(6 / 256)),
    dims: [256, 256] as const,
    layout: 'out,in' as const,
  };
  const h = g.op('Relu', [g.matmulAdd(x, w0, randoms(rng, 256, 0.1), { name: 'fc0' })]);
  const w1 = {
    data: randoms(rng, 10 * 256, Math.sqrt(6 / 256)),
    dims: [10, 256] as const,
    layout: 'out,in' as const,
  };
  g.output(g.matmulAdd(h, w1, randoms(rng, 10, 0.1), { name: 'head' }), 'float32', ['batch', 10], {
    as: 'logits',
  });
  return g;
}

function argmaxRows(data: Float32Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < data.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c] > data[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

test('int8 MLP agrees with fp32 on argmax for >= 99% of 1000 inputs and stays numerically close', async () => {
  const fp32 = buildMlp(new Rng(21));
  const int8 = buildMlp(new Rng(21));
  const report = quantizeDynamic(int8);
  // The 256x10 head (2560 weights) is below the 16384 threshold and stays float.
  assert.deepEqual(report.quantized, ['fc0.weight']);
  assert.equal(report.bytesBefore, 256 * 256 * 4);
  assert.equal(report.bytesAfter, 256 * 256 + 256 * 4 + 256);
  assert.equal(int8.getInitializer('fc0.weight'), undefined);
  assert.ok(int8.getInitializer('fc0.weight_quantized')?.data instanceof Int8Array);
  assert.ok(int8.getInitializer('head.weight')?.data instanceof Float32Array);

  const fp32Bytes = fp32.toModel();
  const int8Bytes = int8.toModel();
  assert.ok(
    int8Bytes.length < fp32Bytes.length * 0.3,
    `int8 model ${int8Bytes.length} B vs fp32 ${fp32Bytes.length} B`,
  );
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const decoded = decodeModel(int8Bytes) as any;
  const ops = decoded.graph.node.map((n: { opType: string }) => n.opType);
  assert.deepEqual(ops, [
    'DynamicQuantizeLinear',
    'MatMulInteger',
    'Cast',
    'Mul',
    'Mul',
    'Add',
    'Relu',
    'MatMul',
    'Add',
  ]);
  const wq = decoded.graph.initializer.find((t: { name: string }) => t.name === 'fc0.weight_quantized');
  assert.equal(wq.dataType, DataType.INT8);
  assert.match(
    decoded.metadataProps.find((p: { key: string }) => p.key === 'alembic.quantization').value,
    /x64quantprecision/,
  );

  const rng = new Rng(99);
  const batch = 1000;
  const x = { data: randoms(rng, batch * 256, 1), dims: [batch, 256] };
  const [s32, s8] = await Promise.all([loadSession(fp32Bytes), loadSession(int8Bytes)]);
  const y32 = (await s32.run({ x })).logits.data as Float32Array;
  const y8 = (await s8.run({ x })).logits.data as Float32Array;
  const a32 = argmaxRows(y32, 10);
  const a8 = argmaxRows(y8, 10);
  const agree = a32.filter((c, i) => c === a8[i]).length / batch;
  assert.ok(agree >= 0.99, `argmax agreement ${agree}`);
  // Mean |difference| over mean |logit| is 0.53 % here (8-bit weights and activations, one quantised layer),
  // the largest single difference 0.018 with mean |logit| 0.69; bounds leave ~2x room.
  let diff = 0;
  let mag = 0;
  let worst = 0;
  for (let i = 0; i < y32.length; i++) {
    diff += Math.abs(y8[i] - y32[i]);
    mag += Math.abs(y32[i]);
    worst = Math.max(worst, Math.abs(y8[i] - y32[i]));
  }
  assert.ok(diff / mag < 0.01, `relative error ${diff / mag}`);
  assert.ok(worst < 0.05, `largest difference ${worst}`);
  assert.ok(diff > 0, 'the int8 model really is quantised');
  await Promise.all([s32.release(), s8.release()]);
});

/** Round half to even, as ONNX's QuantizeLinear/DynamicQuantizeLinear round. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

test('onnxruntime computes exactly the int8 arithmetic the quantised graph describes', async () => {
  // One 256x256 layer, reduced-range and per-tensor too, against a JS model of the ONNX op definitions:
  // DynamicQuantizeLinear (uint8, range widened to include 0), integer matmul, then rescale and bias.
  for (const opts of [{}, { reduceRange: true, perChannel: false }]) {
    const rng = new Rng(4);
    const [k, n, rows] = [256, 256, 3];
    const w = randoms(rng, k * n, 0.1);
    const bias = randoms(rng, n, 0.1);
    const g = new OnnxGraphBuilder('layer');
    const x = g.input('x', 'float32', ['batch', k]);
    g.output(g.matmulAdd(x, { data: w, dims: [k, n], layout: 'in,out' }, bias, { name: 'fc' }), 'float32', [
      'batch',
      n,
    ]);
    quantizeDynamic(g, opts);
    const wq = g.getInitializer('fc.weight_quantized')!.data as Int8Array;
    const ws = g.getInitializer('fc.weight_scale')!.data as Float32Array;
    const session = await loadSession(g.toModel());
    const xs = randoms(rng, rows * k, 2);
    const y = (await session.run({ x: { data: xs, dims: [rows, k] } }))['fc.Add'].data as Float32Array;

    const lo = Math.min(0, ...xs);
    const hi = Math.max(0, ...xs);
    const aScale = Math.fround((hi - lo) / 255);
    const aZero = Math.max(0, Math.min(255, roundHalfEven(-lo / aScale)));
    const aq = Array.from(xs, (v) => Math.max(0, Math.min(255, roundHalfEven(v / aScale) + aZero)));
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let i = 0; i < k; i++) acc += (aq[r * k + i] - aZero) * wq[i * n + j];
        const expected = acc * aScale * ws[ws.length === 1 ? 0 : j] + bias[j];
        const got = y[r * n + j];
        assert.ok(
          Math.abs(got - expected) < 1e-4,
          `${JSON.stringify(opts)} y[${r}][${j}] = ${got}, expected ${expected}`,
        );
      }
    }
    await session.release();
  }
});

test('a weight shared by two MatMuls is quantised once; skip keeps chosen weights in float', () => {
  const g = new OnnxGraphBuilder('shared');
  const x = g.input('x', 'float32', ['batch', 128]);
  const w = g.initializer('tied', new Float32Array(128 * 128).fill(0.5), [128, 128]);
  const w2 = g.initializer('other', new Float32Array(128 * 128).fill(0.25), [128, 128]);
  const a = g.op('MatMul', [x, w]);
  const b = g.op('MatMul', [a, w]);
  g.output(g.op('MatMul', [b, w2]), 'float32', ['batch', 128]);
  const report = quantizeDynamic(g, { skip: (name) => name === 'other' });
  assert.deepEqual(report.quantized, ['tied']);
  assert.equal(g.nodes.filter((n) => n.opType === 'MatMulInteger').length, 2);
  assert.equal(g.initializers.filter((t) => t.name.startsWith('tied_quantized')).length, 1);
  assert.equal(g.getInitializer('tied'), undefined);
  assert.ok(g.getInitializer('other'));
});
