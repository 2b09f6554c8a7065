import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int64, manualSeed, randn, tensor } from '../../src/engine/create.js';
import * as F from '../../src/engine/functional.js';
import { Embedding } from '../../src/engine/nn/embedding.js';
import { Linear } from '../../src/engine/nn/linear.js';
import { Module } from '../../src/engine/nn/module.js';
import { GRU, LSTM } from '../../src/engine/nn/rnn.js';
import { AdamW } from '../../src/engine/optim/adamw.js';
import { clipGradNorm, zeroGrad } from '../../src/engine/optim/clip.js';
import { learningRateAt } from '../../src/engine/optim/schedule.js';
import { SGD } from '../../src/engine/optim/sgd.js';
import { tidy } from '../../src/engine/scope.js';
import type { Tensor } from '../../src/engine/tensor.js';

class TwoLayer extends Module {
  readonly a = this.child('a', new Linear(3, 4));
  readonly b = this.child('b', new Linear(4, 2, { bias: false }));
  forward(x: Tensor): Tensor {
    return this.b.forward(this.a.forward(x).relu());
  }
}

test('modules name their parameters by path and round-trip a state dict', () => {
  manualSeed(0);
  const m = new TwoLayer();
  assert.deepEqual([...m.stateDict().keys()], ['a.weight', 'a.bias', 'b.weight']);
  assert.equal(m.numParameters(), 3 * 4 + 4 + 4 * 2);
  const other = new TwoLayer();
  other.loadStateDict(m.stateDict());
  tidy(() => {
    const x = randn([5, 3]);
    assert.deepEqual(other.forward(x).toArray(), m.forward(x).toArray());
  });
  assert.throws(() => other.loadStateDict(new Map([['a.weight', m.a.weight]])), /missing a\.bias, b\.weight/);
  const wrong = new Map(m.stateDict());
  wrong.set('a.weight', randn([2, 2]).keep());
  assert.throws(() => other.loadStateDict(wrong), /a\.weight: shape 2x2 does not match the model's 4x3/);
  assert.equal(m.train(false).a.training, false);
});

test('LSTM and GRU modules use PyTorch parameter names and shapes', () => {
  const lstm = new LSTM(3, 5, { numLayers: 2, bidirectional: true });
  const names = [...lstm.stateDict().keys()];
  assert.ok(names.includes('weight_ih_l0'));
  assert.ok(names.includes('bias_hh_l1_reverse'));
  assert.deepEqual(lstm.stateDict().get('weight_ih_l1')!.shape, [20, 10]);
  const gru = new GRU(3, 5);
  assert.deepEqual(gru.stateDict().get('weight_hh_l0')!.shape, [15, 5]);
  tidy(() => {
    const out = lstm.forward(randn([2, 4, 3]), int64([4, 1]));
    assert.deepEqual(out.output.shape, [2, 4, 10]);
    assert.deepEqual(out.cN!.shape, [4, 2, 5]);
  });
});

test('embedding padding row starts at zero and gets no gradient', () => {
  const emb = new Embedding(5, 3, { paddingIdx: 0 });
  tidy(() => {
    assert.deepEqual(emb.weight.select(0, 0).toArray(), [0, 0, 0]);
    emb
      .forward(int64([0, 2, 0]))
      .sum()
      .backward();
    const g = emb.weight.grad!;
    assert.deepEqual(g.select(0, 0).toArray(), [0, 0, 0]);
    assert.deepEqual(g.select(0, 2).toArray(), [1, 1, 1]);
  });
});

test('AdamW step matches the hand-computed update', () => {
  const p = tensor([1]).keep();
  p.requiresGrad = true;
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.01 });
  tidy(() => p.mul(2).sum().backward()); // grad = 2
  opt.step();
  // p = 1·(1 − 0.1·0.01) − 0.1 · (0.2/0.1) / (sqrt(0.004/0.001) + 1e-8)
  const expected = 0.999 - (0.1 * 2) / (2 + 1e-8);
  assert.ok(Math.abs(p.item() - expected) < 1e-6, `${p.item()} vs ${expected}`);
  const state = opt.state();
  assert.equal(state.step, 1);
  assert.ok(Math.abs(state.tensors.get('exp_avg.0')!.item() - 0.2) < 1e-7);
  // Restoring the state into a fresh optimizer continues identically.
  const q = tensor([p.item()]).keep();
  q.requiresGrad = true;
  const opt2 = new AdamW([q], { lr: 0.1, weightDecay: 0.01 });
  opt2.loadState(state);
  tidy(() => p.mul(2).sum().backward());
  tidy(() => q.mul(2).sum().backward());
  zeroGrad([p]);
  tidy(() => p.mul(2).sum().backward());
  opt.step();
  opt2.step();
  assert.equal(p.item(), q.item());
});

test('row-wise AdamW steps only the rows with a gradient (LazyAdam), and those exactly as dense AdamW', () => {
  const [rows, dim, lr, wd] = [5, 3, 0.05, 0.1];
  const init = Array.from({ length: rows * dim }, (_, i) => Math.sin(i + 1));
  const p = tensor(init, [rows, dim]).keep();
  p.requiresGrad = true;
  const opt = new AdamW([{ params: [p], weightDecay: wd, rowWise: true }], { lr, weightDecay: wd });
  // Brute force: per-element Adam state, advanced only where the element's row was read.
  const w = [...init];
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  const batches = [[0, 2, 2], [2], [4, 0], [1, 3, 3, 3]];
  batches.forEach((ids, k) => {
    const step = k + 1;
    zeroGrad([p]);
    // loss = Σ_i Σ_d (d + 1) · p[ids[i], d]²: row r's gradient is 2 (d + 1) p[r, d] times its count.
    const coef = tensor([1, 2, 3], [1, dim]);
    tidy(() => p.indexSelect(0, int64(ids)).pow(2).mul(coef).sum().backward());
    const grad = w.map(
      (x, j) => 2 * ((j % dim) + 1) * x * ids.filter((r) => r === Math.floor(j / dim)).length,
    );
    for (let j = 0; j < w.length; j++) {
      if (!ids.includes(Math.floor(j / dim))) continue;
      w[j] *= 1 - lr * wd;
      m[j] = 0.9 * m[j] + 0.1 * grad[j];
      v[j] = 0.999 * v[j] + 0.001 * grad[j] ** 2;
      const denom = Math.sqrt(v[j]) / Math.sqrt(1 - 0.999 ** step) + 1e-8;
      w[j] -= (lr / (1 - 0.9 ** step)) * (m[j] / denom);
    }
    opt.step();
  });
  const got = p.toArray();
  w.forEach((x, j) => assert.ok(Math.abs(got[j] - x) < 1e-5, `element ${j}: ${got[j]} vs ${x}`));
});

test('SGD with momentum follows the textbook recurrence', () => {
  const p = tensor([1]).keep();
  p.requiresGrad = true;
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
  for (let i = 0; i < 2; i++) {
    zeroGrad([p]);
    tidy(() => p.mul(3).sum().backward()); // grad = 3
    opt.step();
  }
  // v1 = 3, p = 0.7; v2 = 0.9·3 + 3 = 5.7, p = 0.7 − 0.57 = 0.13
  assert.ok(Math.abs(p.item() - 0.13) < 1e-6);
});

test('gradient clipping by global norm', () => {
  const a = tensor([0, 0]).keep();
  const b = tensor([0]).keep();
  a.requiresGrad = b.requiresGrad = true;
  tidy(() =>
    a
      .mul(tensor([3, 0]))
      .sum()
      .add(b.mul(4).sum())
      .backward(),
  ); // grads (3,0), (4): norm 5
  const norm = clipGradNorm([a, b], 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  tidy(() => {
    assert.ok(Math.abs(a.grad!.toArray()[0] - 0.6) < 1e-5);
    assert.ok(Math.abs(b.grad!.item() - 0.8) < 1e-5);
  });
});

test('learning-rate schedule: linear warm-up then linear or cosine decay', () => {
  const opts = { base: 1, warmupSteps: 10, totalSteps: 110 };
  assert.equal(learningRateAt(0, opts), 0.1);
  assert.equal(learningRateAt(9, opts), 1);
  assert.equal(learningRateAt(60, opts), 0.5);
  assert.equal(learningRateAt(110, opts), 0);
  assert.ok(Math.abs(learningRateAt(60, { ...opts, kind: 'cosine' }) - 0.5) < 1e-12);
  assert.equal(learningRateAt(1000, { ...opts, kind: 'constant' }), 1);
});

test('a small network learns XOR (training works end to end)', () => {
  manualSeed(3);
  class Wide extends Module {
    readonly a = this.child('a', new Linear(3, 16));
    readonly b = this.child('b', new Linear(16, 2));
    forward(x: Tensor): Tensor {
      return this.b.forward(this.a.forward(x).tanh());
    }
  }
  const m = new Wide();
  const opt = new AdamW(m.parameters(), { lr: 0.05, weightDecay: 0 });
  const x = tensor([0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1], [4, 3]).keep();
  const y = int64([0, 1, 1, 0]).keep();
  let loss = Infinity;
  for (let i = 0; i < 300; i++) {
    zeroGrad(m.parameters());
    loss = tidy(() => {
      const l = F.crossEntropy(m.forward(x), y);
      l.backward();
      return l.item();
    });
    opt.step();
  }
  assert.ok(loss < 0.05, `loss ${loss}`);
});
