import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  arange,
  cat,
  full,
  int64,
  manualSeed,
  ones,
  randn,
  stack,
  tensor,
  where,
  zeros,
} from '../../src/engine/create.js';
import * as F from '../../src/engine/functional.js';
import { liveTensorCount, noGrad, tidy } from '../../src/engine/scope.js';

test('creation gives the asked shape, dtype and values', () => {
  tidy(() => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, 'float32');
    assert.deepEqual(t.toArray(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(int64([3, -1]).toArray(), [3, -1]);
    assert.equal(int64([3]).dtype, 'int64');
    assert.deepEqual(tensor([1, 0, 1], [3], 'bool').toArray(), [1, 0, 1]);
    assert.deepEqual(zeros([2]).toArray(), [0, 0]);
    assert.deepEqual(ones([2], 'int64').toArray(), [1, 1]);
    assert.deepEqual(full([2], 7.5).toArray(), [7.5, 7.5]);
    assert.deepEqual(arange(4).toArray(), [0, 1, 2, 3]);
    assert.deepEqual(arange(1, 7, 2).toArray(), [1, 3, 5]);
    assert.equal(tensor([2.5]).item(), 2.5);
  });
});

test('random tensors are reproducible from a seed', () => {
  tidy(() => {
    manualSeed(123);
    const a = randn([5]).toArray();
    manualSeed(123);
    assert.deepEqual(randn([5]).toArray(), a);
    manualSeed(124);
    assert.notDeepEqual(randn([5]).toArray(), a);
  });
});

test('integer tensors keep their dtype under scalar arithmetic', () => {
  tidy(() => {
    const ids = int64([1, 2]);
    assert.equal(ids.add(1).dtype, 'int64');
    assert.deepEqual(ids.mul(3).toArray(), [3, 6]);
    assert.equal(ids.div(2).dtype, 'float32');
  });
});

test('math and shape ops compute what they should', () => {
  tidy(() => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    assert.deepEqual(a.matmul(a).toArray(), [7, 10, 15, 22]);
    assert.deepEqual(a.transpose(0, 1).contiguous().toArray(), [1, 3, 2, 4]);
    assert.deepEqual(a.sum(1).toArray(), [3, 7]);
    assert.deepEqual(a.mean(0).toArray(), [2, 3]);
    assert.deepEqual(a.argmax(1).toArray(), [1, 1]);
    assert.deepEqual(a.maxDim(0).indices.toArray(), [1, 1]);
    assert.deepEqual(cat([a, a], 0).shape, [4, 2]);
    assert.deepEqual(stack([a, a], 0).shape, [2, 2, 2]);
    assert.deepEqual(a.gt(2).toArray(), [0, 0, 1, 1]);
    assert.deepEqual(where(a.gt(2), a, zeros([2, 2])).toArray(), [0, 0, 3, 4]);
    assert.deepEqual(a.maskedFill(a.lt(3), -1).toArray(), [-1, -1, 3, 4]);
    assert.deepEqual(a.gather(1, int64([1, 0], [2, 1])).toArray(), [2, 3]);
    assert.deepEqual(a.topk(1, 1).values.toArray(), [2, 4]);
    const sm = tensor([1, 2, 3]).softmax(0).toArray();
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    sm.forEach((v, i) => assert.ok(Math.abs(v - Math.exp(i + 1) / z) < 1e-6));
  });
});

test('losses match hand-computed values', () => {
  tidy(() => {
    // CE of logits [0, 0] with target 0 = ln 2.
    const ce = F.crossEntropy(zeros([1, 2]), int64([0])).item();
    assert.ok(Math.abs(ce - Math.LN2) < 1e-6);
    // ignore_index drops the second row, so the mean is over one row.
    const ign = F.crossEntropy(tensor([0, 0, 5, -5], [2, 2]), int64([0, -100])).item();
    assert.ok(Math.abs(ign - Math.LN2) < 1e-6);
    // label smoothing 0.2 on 2 classes with logits [0,0]: still ln 2 (uniform prediction).
    assert.ok(
      Math.abs(F.crossEntropy(zeros([1, 2]), int64([1]), { labelSmoothing: 0.2 }).item() - Math.LN2) < 1e-6,
    );
    // BCE with logit 0: ln 2 regardless of the target.
    assert.ok(Math.abs(F.binaryCrossEntropyWithLogits(zeros([2]), tensor([1, 0])).item() - Math.LN2) < 1e-6);
    // KL(p || p) = 0; KL([1,0] || [0.5,0.5]) = ln 2.
    const p = tensor([0.3, 0.7], [1, 2]);
    assert.ok(Math.abs(F.klDiv(p.log(), p).item()) < 1e-7);
    assert.ok(
      Math.abs(F.klDiv(tensor([0.5, 0.5], [1, 2]).log(), tensor([1, 0], [1, 2])).item() - Math.LN2) < 1e-6,
    );
    assert.ok(Math.abs(F.mseLoss(tensor([1, 3]), tensor([0, 0])).item() - 5) < 1e-6);
  });
});

test('bad shapes, dtypes and indices raise JS errors naming the op and shapes', () => {
  tidy(() => {
    const a = zeros([2, 3]);
    assert.throws(
      () => a.matmul(zeros([2, 3])),
      /matmul\(float32\[2, 3\], float32\[2, 3\]\): .*cannot be multiplied/,
    );
    assert.throws(() => F.embedding(zeros([4, 2]), int64([9])), /embedding\(.*\): index out of range/);
    assert.throws(() => F.crossEntropy(zeros([2, 3]), tensor([0, 1])), /cross/i);
    assert.throws(() => a.reshape(4, 2), /reshape\(float32\[2, 3\]\): shape '\[4, 2\]' is invalid/);
    assert.throws(() => tensor([1, 2, 3], [2, 2]), /fromBytes.*bytes/);
    const gone = zeros([1]);
    gone.dispose();
    assert.throws(() => gone.add(1), /disposed/);
  });
});

test('tidy frees what a scope made, keeps what it returns, and cleans up on throw', () => {
  const before = liveTensorCount();
  const kept = tidy(() => {
    const a = ones([3]);
    const b = a.add(1);
    a.mul(5);
    return { b, n: 3 };
  });
  assert.equal(liveTensorCount(), before + 1);
  assert.deepEqual(kept.b.toArray(), [2, 2, 2]);
  kept.b.dispose();
  assert.equal(liveTensorCount(), before);
  assert.throws(() =>
    tidy(() => {
      ones([2]).add(1);
      throw new Error('boom');
    }),
  );
  assert.equal(liveTensorCount(), before);
  const outer = tidy(() => {
    const inner = tidy(() => ones([2]).mul(2));
    ones([9]);
    return inner;
  });
  assert.equal(liveTensorCount(), before + 1);
  outer.dispose();
});

test('autograd: backward fills grad, noGrad records nothing', () => {
  tidy(() => {
    const x = tensor([1, 2, 3]);
    x.requiresGrad = true;
    x.pow(2).sum().backward();
    assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
    const y = noGrad(() => x.mul(2));
    assert.equal(y.requiresGrad, false);
    assert.equal(x.mul(2).requiresGrad, true);
  });
});

test('packed RNN ignores padding: output past a length is zero and h_n equals the unpadded run', () => {
  tidy(() => {
    manualSeed(1);
    const x = randn([2, 4, 3]);
    const w = [randn([8, 3]), randn([8, 2]), randn([8]), randn([8])];
    const padded = F.rnn('lstm', x, w, { lengths: int64([4, 2]), numLayers: 1, bidirectional: false });
    assert.deepEqual(padded.output.select(0, 1).slice(0, 2).abs().sum().item(), 0);
    const alone = F.rnn('lstm', x.slice(0, 1, 2).slice(1, 0, 2), w, { numLayers: 1, bidirectional: false });
    const a = padded.hN.select(1, 1).toArray();
    const b = alone.hN.select(1, 0).toArray();
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6));
  });
});
