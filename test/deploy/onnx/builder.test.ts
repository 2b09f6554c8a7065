import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float, int, ints } from '../../../src/deploy/onnx/attributes.js';
import { OnnxGraphBuilder } from '../../../src/deploy/onnx/graph-builder.js';
import { AttributeType, DataType, decodeModel } from '../../../src/deploy/onnx/schema.js';
import { loadSession } from '../../../src/deploy/onnx/session.js';
import { writeOnnx } from '../../../src/deploy/onnx/write-onnx.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';

function randoms(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`,
    );
  }
}

function softmaxRows(logits: number[], cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / cols; r++) {
    const row = logits.slice(r * cols, (r + 1) * cols);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

/** erf by its Taylor series (double precision to ~1e-11 for |x| ≤ 4; beyond, |1 - |erf|| < 2e-8). */
function erf(x: number): number {
  if (Math.abs(x) > 4) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

test('linear classifier x[batch,4] -> softmax matches JS, torch [out,in] weight transposed', async () => {
  // Torch layout [out=3, in=4]: logit c = sum_i W[c][i] x[i] + b[c].
  const w = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1]);
  const b = new Float32Array([0, 0, 0.5]);
  const g = new OnnxGraphBuilder('linear', { opset: 17 });
  const x = g.input('x', 'float32', ['batch', 4]);
  const logits = g.matmulAdd(x, { data: w, dims: [3, 4], layout: 'out,in' }, b, { name: 'classifier' });
  g.output(g.softmax(logits), 'float32', ['batch', 3], { as: 'probs' });
  assert.deepEqual(g.getInitializer('classifier.weight')?.dims, [4, 3]);

  const session = await loadSession(g.toModel());
  const xs = new Float32Array([1, 2, 3, 4, 0, 0, 0, 0, -1, 0.5, 2, -2]);
  const { probs } = await session.run({ x: { data: xs, dims: [3, 4] } });
  assert.deepEqual(probs.dims, [3, 3]);
  // Hand-computed logits: row 0 [1, 2, 3+4+0.5], row 1 [0, 0, 0.5], row 2 [-1, 0.5, 2-2+0.5].
  assertClose(
    probs.data as Float32Array,
    softmaxRows([1, 2, 7.5, 0, 0, 0.5, -1, 0.5, 0.5], 3),
    1e-6,
    'probs',
  );
  // Row 1 by hand: e^0.5 / (2 + e^0.5).
  assert.ok(Math.abs((probs.data as Float32Array)[5] - Math.exp(0.5) / (2 + Math.exp(0.5))) < 1e-6);
  await session.release();
});

test('embedding bag: Gather + masked mean + dense, dynamic batch and seq', async () => {
  const rng = new Rng(11);
  const vocab = 10;
  const dim = 3;
  const classes = 2;
  const table = randoms(rng, vocab * dim);
  const w = randoms(rng, dim * classes);
  const bias = new Float32Array([0.25, -0.25]);

  const g = new OnnxGraphBuilder('bag');
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const mask = g.input('mask', 'bool', ['batch', 'seq']);
  const emb = g.gather({ data: table, dims: [vocab, dim] }, ids); // [b, s, d]
  const m = g.op('Cast', [mask], { to: int(DataType.FLOAT) }); // [b, s]
  const masked = g.op('Mul', [emb, g.op('Unsqueeze', [m, g.int64s([-1])])]);
  const sum = g.op('ReduceSum', [masked, g.int64s([1])], { keepdims: 0 }); // [b, d]
  const count = g.op('ReduceSum', [m, g.int64s([1])], { keepdims: 1 }); // [b, 1]
  const mean = g.op('Div', [sum, g.op('Max', [count, g.scalar(1)])]);
  const logits = g.matmulAdd(mean, { data: w, dims: [dim, classes], layout: 'in,out' }, bias, {
    name: 'out',
  });
  g.output(logits, 'float32', ['batch', classes], { as: 'logits' });
  const session = await loadSession(g.toModel());

  const reference = (idv: number[], maskv: number[], seq: number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < idv.length / seq; r++) {
      const acc = new Array(dim).fill(0);
      let n = 0;
      for (let t = 0; t < seq; t++) {
        if (!maskv[r * seq + t]) continue;
        n++;
        for (let k = 0; k < dim; k++) acc[k] += table[idv[r * seq + t] * dim + k];
      }
      const mean = acc.map((v) => v / Math.max(n, 1));
      for (let c = 0; c < classes; c++) {
        out.push(bias[c] + mean.reduce((s, v, k) => s + v * w[k * classes + c], 0));
      }
    }
    return out;
  };
  const shapes: [number, number][] = [
    [2, 3],
    [3, 5],
  ];
  for (const [batch, seq] of shapes) {
    const idv = Array.from({ length: batch * seq }, () => rng.int(vocab));
    const maskv = Array.from({ length: batch * seq }, (_, i) => (i % seq < seq - 1 || i === 0 ? 1 : 0));
    const res = await session.run({
      ids: { data: BigInt64Array.from(idv, BigInt), dims: [batch, seq] },
      mask: { data: Uint8Array.from(maskv), dims: [batch, seq], type: 'bool' },
    });
    assert.deepEqual(res.logits.dims, [batch, classes]);
    assertClose(res.logits.data as Float32Array, reference(idv, maskv, seq), 1e-5, `logits ${batch}x${seq}`);
  }
  // A row with only padding averages nothing: the logits are the bias alone.
  const empty = await session.run({
    ids: { data: new BigInt64Array([3n, 4n]), dims: [1, 2] },
    mask: { data: new Uint8Array([0, 0]), dims: [1, 2], type: 'bool' },
  });
  assertClose(empty.logits.data as Float32Array, [0.25, -0.25], 1e-7, 'all-padding logits');
  await session.release();
});

test('LayerNormalization and erf GELU match a JS reference to 1e-5', async () => {
  const rng = new Rng(5);
  const [batch, dim] = [4, 8];
  const gamma = randoms(rng, dim, 2);
  const beta = randoms(rng, dim);
  const g = new OnnxGraphBuilder('ln_gelu');
  const x = g.input('x', 'float32', ['batch', dim]);
  g.output(g.layerNorm(x, gamma, beta, { epsilon: 1e-12 }), 'float32', ['batch', dim], { as: 'ln' });
  g.output(g.gelu(x), 'float32', ['batch', dim], { as: 'gelu' });
  const session = await loadSession(g.toModel());
  const xs = randoms(rng, batch * dim, 4);
  const { ln, gelu } = await session.run({ x: { data: xs, dims: [batch, dim] } });

  const lnRef: number[] = [];
  for (let r = 0; r < batch; r++) {
    const row = Array.from(xs.subarray(r * dim, (r + 1) * dim));
    const mean = row.reduce((a, b) => a + b, 0) / dim;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / dim; // biased, as LayerNorm uses
    lnRef.push(...row.map((v, k) => ((v - mean) / Math.sqrt(variance + 1e-12)) * gamma[k] + beta[k]));
  }
  assertClose(ln.data as Float32Array, lnRef, 1e-5, 'layerNorm');
  const geluRef = Array.from(xs, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
  assertClose(gelu.data as Float32Array, geluRef, 1e-5, 'gelu');
  // Hand values: gelu(0) = 0, gelu(1) = 0.5·(1 + erf(1/√2)) = 0.841344746.
  const fixed = await session.run({
    x: { data: new Float32Array([0, 1, 0, 0, 0, 0, 0, 0]), dims: [1, dim] },
  });
  assertClose((fixed.gelu.data as Float32Array).subarray(0, 2), [0, 0.841344746], 1e-6, 'gelu hand values');
  await session.release();
});

test('a written model parses back with the opset, dims, initializers and attributes as built', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'alembic-onnx-'));
  try {
    const g = new OnnxGraphBuilder('roundtrip', { opset: 17 });
    const ids = g.input('ids', 'int64', ['batch', 'seq']);
    g.initializer('emb.weight', new Float32Array(6 * 4), [6, 4]);
    g.initializer('pos', new BigInt64Array([0n, 1n, 2n]), [3]);
    const h = g.scope('enc', () =>
      g.layerNorm(g.gather('emb.weight', ids), new Float32Array(4), new Float32Array(4)),
    );
    g.output(h, 'float32', ['batch', 'seq', 4], { as: 'hidden' });
    const path = join(dir, 'sub', 'model.onnx');
    await writeOnnx(
      path,
      g.toModel({ producer: 'alembic', docString: 'test model', metadata: { labels: 'a,b' } }),
    );
    assert.deepEqual(await readdir(join(dir, 'sub')), ['model.onnx']); // no temporary file left behind

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const m = decodeModel(await readFile(path)) as any;
    assert.equal(m.irVersion, 8);
    assert.deepEqual(m.opsetImport, [{ domain: '', version: 17 }]);
    assert.equal(m.producerName, 'alembic');
    assert.equal(m.docString, 'test model');
    assert.deepEqual(m.metadataProps, [{ key: 'labels', value: 'a,b' }]);
    assert.equal(m.graph.name, 'roundtrip');
    assert.equal(m.graph.input[0].name, 'ids');
    assert.equal(m.graph.input[0].type.tensorType.elemType, DataType.INT64);
    assert.deepEqual(m.graph.input[0].type.tensorType.shape.dim, [
      { dimParam: 'batch' },
      { dimParam: 'seq' },
    ]);
    assert.deepEqual(m.graph.output[0].type.tensorType.shape.dim, [
      { dimParam: 'batch' },
      { dimParam: 'seq' },
      { dimValue: 4 },
    ]);
    const inits = m.graph.initializer.map((t: { name: string; dims: number[]; dataType: number }) => [
      t.name,
      t.dims,
      t.dataType,
    ]);
    assert.deepEqual(inits, [
      ['emb.weight', [6, 4], DataType.FLOAT],
      ['pos', [3], DataType.INT64],
      ['enc/layer_norm.weight', [4], DataType.FLOAT],
      ['enc/layer_norm.bias', [4], DataType.FLOAT],
    ]);
    assert.equal(m.graph.initializer[0].rawData.length, 6 * 4 * 4);
    // The output is published by renaming the LayerNormalization's own output: no Identity node.
    assert.deepEqual(
      m.graph.node.map((n: { opType: string }) => n.opType),
      ['Gather', 'LayerNormalization'],
    );
    assert.deepEqual(m.graph.node[1].output, ['hidden']);
    assert.equal(m.graph.output[0].name, 'hidden');
    const lnAttrs = m.graph.node[1].attribute.map((a: { name: string; type: number }) => [a.name, a.type]);
    assert.deepEqual(lnAttrs, [
      ['axis', AttributeType.INT],
      ['epsilon', AttributeType.FLOAT],
    ]);
    assert.equal(m.graph.node[1].attribute[0].i, -1);
    assert.ok(Math.abs(m.graph.node[1].attribute[1].f - 1e-5) < 1e-12);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('attributes: integral numbers are INT unless tagged float(); ambiguous lists must be tagged', () => {
  const g = new OnnxGraphBuilder('attrs');
  const x = g.input('x', 'float32', [2]);
  g.op('LeakyRelu', [x], { alpha: float(1) });
  g.op('Identity', [x], {
    a: 1,
    b: 0.5,
    c: [1, 2],
    d: [1, 2.5],
    e: 'tanh',
    f: ['a', 'b'],
    t: true,
    z: ints([]),
  });
  const [leaky, ident] = g.nodes;
  assert.deepEqual(leaky.attrs.alpha, { kind: 'float', value: 1 });
  assert.deepEqual(
    Object.values(ident.attrs).map((a) => a.kind),
    ['int', 'float', 'ints', 'floats', 'string', 'strings', 'int', 'ints'],
  );
  assert.throws(() => g.op('Identity', [x], { axes: [] }), /empty list is ambiguous/);
  assert.throws(() => int(1.5), /not an integer/);
});

test('builder catches wrong names and shapes where they are made', () => {
  const g = new OnnxGraphBuilder('errors');
  const x = g.input('x', 'float32', ['batch', 2]);
  assert.throws(() => g.op('Relu', ['y']), /no value named "y"/);
  assert.throws(() => g.initializer('x', new Float32Array(2), [2]), /already used/);
  assert.throws(() => g.initializer('w', new Float32Array(5), [2, 3]), /hold 6 elements, data has 5/);
  assert.throws(() => g.toModel(), /no outputs/);
  // Made-up names never collide: the second Relu gets a suffix, scoped names get the prefix.
  const a = g.op('Relu', [x]);
  const b = g.op('Relu', [a]);
  const c = g.scope('block', () => g.op('Relu', [b]));
  assert.deepEqual([a, b, c], ['Relu', 'Relu_1', 'block/Relu']);
  assert.throws(() => new OnnxGraphBuilder('old', { opset: 11 }), /opset 13 or newer/);
});

test('output(as) renames the producing node; old names follow; inputs and a second name go through Identity', async () => {
  const g = new OnnxGraphBuilder('publish');
  const x = g.input('x', 'float32', ['batch', 2]);
  const r = g.op('Relu', [x]);
  assert.equal(g.output(r, 'float32', ['batch', 2], { as: 'relu' }), 'relu');
  // A node made after publishing may still name the old value.
  const doubled = g.op('Add', [r, r]);
  g.output(doubled, 'float32', ['batch', 2], { as: 'doubled' });
  // A value made later never takes a published value's old name (it would be read as the output).
  assert.notEqual(g.op('Relu', [x]), r);
  g.output(r, 'float32', ['batch', 2], { as: 'relu_again' }); // already published: Identity
  g.output(x, 'float32', ['batch', 2], { as: 'echo' }); // a graph input: Identity
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const m = decodeModel(g.toModel()) as any;
  assert.deepEqual(
    m.graph.node.map((n: { opType: string; input: string[]; output: string[] }) => [
      n.opType,
      n.input,
      n.output,
    ]),
    [
      ['Relu', ['x'], ['relu']],
      ['Add', ['relu', 'relu'], ['doubled']],
      ['Relu', ['x'], ['Relu_1']],
      ['Identity', ['relu'], ['relu_again']],
      ['Identity', ['x'], ['echo']],
    ],
  );
  const session = await loadSession(g.toModel());
  const out = await session.run({ x: { data: new Float32Array([-1, 2]), dims: [1, 2] } });
  assert.deepEqual(Array.from(out.relu.data as Float32Array), [0, 2]);
  assert.deepEqual(Array.from(out.doubled.data as Float32Array), [0, 4]);
  assert.deepEqual(Array.from(out.relu_again.data as Float32Array), [0, 2]);
  assert.deepEqual(Array.from(out.echo.data as Float32Array), [-1, 2]);
  await session.release();
});

test('replaceNode keeps order and checks the replacement', () => {
  const g = new OnnxGraphBuilder('rewrite');
  const x = g.input('x', 'float32', [2]);
  const r = g.op('Relu', [x]);
  const s = g.op('Sigmoid', [r]);
  g.output(s, 'float32', [2]);
  const relu = g.nodes[0];
  g.replaceNode(relu, () => {
    g.node('Abs', [x], [r]);
  });
  assert.deepEqual(
    g.nodes.map((n) => n.opType),
    ['Abs', 'Sigmoid'],
  );
  assert.throws(
    () =>
      g.replaceNode(g.nodes[0], () => {
        g.op('Neg', [x]);
      }),
    /output Relu was not redefined/,
  );
  // The failed rewrite left the graph as it was: it still serialises, with Relu's value defined by Abs.
  assert.deepEqual(
    g.nodes.map((n) => n.opType),
    ['Abs', 'Sigmoid'],
  );
  assert.ok(g.has(r) && !g.has('Neg'));
  assert.ok(g.toModel().length > 0);
});

test('loadSession names a missing model file as the user error it is', async () => {
  await assert.rejects(loadSession(join(tmpdir(), 'alembic-no-such-model.onnx')), (err: unknown) => {
    return err instanceof UserError && /no such model file/.test(err.message);
  });
});
