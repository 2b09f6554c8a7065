import { test } from 'node:test';
import { cat, fromTyped, int64, manualSeed, tensor } from '../../src/engine/create.js';
import * as F from '../../src/engine/functional.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { gradcheck, randomValues } from '../helpers/gradcheck.js';

const input = (shape: number[], seed: number, scale = 1) => ({
  values: randomValues(
    shape.reduce((a, b) => a * b, 1),
    seed,
    scale,
  ),
  shape,
});
const positive = (shape: number[], seed: number) => {
  const i = input(shape, seed);
  i.values = i.values.map((v) => Math.abs(v) + 0.2);
  return i;
};

test('elementwise math gradients match finite differences', () => {
  gradcheck('add', (a, b) => a.add(b, 0.5), [input([2, 3], 1), input([2, 3], 2)]);
  gradcheck('sub', (a, b) => a.sub(b), [input([2, 3], 1), input([3], 2)]);
  gradcheck('mul', (a, b) => a.mul(b), [input([2, 3], 3), input([2, 1], 4)]);
  gradcheck('div', (a, b) => a.div(b), [input([2, 3], 5), positive([2, 3], 6)]);
  gradcheck('scalar ops', (a) => a.add(2).mul(3).sub(1).div(4).rsub(1), [input([4], 7)]);
  gradcheck('pow', (a) => a.pow(3), [input([5], 8)]);
  gradcheck('pow tensor', (a, b) => a.pow(b), [positive([3], 9), input([3], 10)]);
  gradcheck('exp/log/sqrt', (a) => a.exp().add(a.log()).add(a.sqrt()).add(a.rsqrt()), [positive([4], 11)]);
  gradcheck('log1p/abs', (a) => a.log1p().add(a.abs()), [positive([4], 12)]);
  gradcheck('tanh/sigmoid', (a) => a.tanh().mul(a.sigmoid()), [input([6], 13)]);
  gradcheck('relu', (a) => a.relu(), [input([6], 14)]);
  gradcheck('gelu erf', (a) => a.gelu(), [input([6], 15, 3)]);
  gradcheck('gelu tanh', (a) => a.gelu('tanh'), [input([6], 16, 3)]);
  gradcheck('clamp', (a) => a.clamp(-0.5, 0.5), [input([8], 17)]);
  gradcheck('maximum/minimum', (a, b) => a.maximum(b).add(a.minimum(b)), [input([5], 18), input([5], 19)]);
  gradcheck('neg', (a) => a.neg(), [input([3], 20)]);
});

test('reduction gradients match finite differences', () => {
  gradcheck('sum', (a) => a.sum(1), [input([3, 4], 21)]);
  gradcheck('sum keepdim all', (a) => a.sum([0, 1], true), [input([3, 4], 22)]);
  gradcheck('mean', (a) => a.mean(0), [input([3, 4], 23)]);
  gradcheck('meanAll', (a) => a.mean(), [input([3, 4], 24)]);
  gradcheck('maxDim', (a) => a.maxDim(1).values, [input([3, 4], 25)]);
  gradcheck('max', (a) => a.max(), [input([3, 4], 26)]);
  gradcheck('logsumexp', (a) => a.logsumexp(1), [input([3, 4], 27)]);
  gradcheck('norm', (a) => a.norm(2, 1), [input([3, 4], 28)]);
  gradcheck('variance', (a) => a.variance(1), [input([3, 4], 29)]);
  gradcheck('cumsum', (a) => a.cumsum(1), [input([2, 4], 30)]);
});

test('shape and indexing gradients match finite differences', () => {
  gradcheck(
    'reshape/permute/transpose',
    (a) =>
      a
        .reshape(2, 3, 2)
        .permute(2, 0, 1)
        .transpose(0, 1)
        .mul(a.reshape(2, 2, 3)),
    [input([12], 31)],
  );
  gradcheck('expand', (a) => a.expand(3, 4), [input([1, 4], 32)]);
  gradcheck('slice/select', (a) => a.slice(1, 1, 3).add(a.select(1, 0).unsqueeze(1)), [input([3, 4], 33)]);
  gradcheck('cat/stack', (a, b) => F.linear(a, b).flatten().unsqueeze(0).repeat(2, 1), [
    input([2, 3], 34),
    input([4, 3], 35),
  ]);
  gradcheck(
    'indexSelect/gather',
    (a) => a.indexSelect(0, int64([2, 0, 2])).gather(1, int64([0, 1, 1, 0, 2, 2], [3, 2])),
    [input([3, 3], 36)],
  );
  gradcheck('maskedFill/where', (a, b) => a.maskedFill(tensor([1, 0, 1], [3], 'bool'), 0).add(b), [
    input([2, 3], 37),
    input([3], 38),
  ]);
  gradcheck('flip/tril', (a) => a.flip(1).tril(), [input([3, 3], 39)]);
  gradcheck('chunk/split', (a) => a.chunk(2, 1)[1].mul(a.split([1, 3], 1)[1].slice(1, 0, 2)), [
    input([2, 4], 40),
  ]);
  gradcheck('scatter/indexAdd', (a, b) => a.indexAdd(0, int64([1, 1]), b), [
    input([3, 2], 41),
    input([2, 2], 42),
  ]);
});

test('linear algebra gradients match finite differences', () => {
  gradcheck('matmul', (a, b) => a.matmul(b), [input([2, 3], 43), input([3, 4], 44)]);
  gradcheck('batched matmul', (a, b) => a.matmul(b.mT), [input([2, 2, 3], 45), input([2, 4, 3], 46)]);
  gradcheck('bmm', (a, b) => a.bmm(b), [input([2, 2, 3], 47), input([2, 3, 2], 48)]);
  gradcheck('linear', (x, w, b) => F.linear(x, w, b), [input([2, 3], 49), input([4, 3], 50), input([4], 51)]);
});

test('neural-network functional gradients match finite differences', () => {
  gradcheck('softmax', (a) => a.softmax(1), [input([2, 4], 52)]);
  gradcheck('logSoftmax', (a) => a.logSoftmax(-1), [input([2, 4], 53)]);
  gradcheck('embedding', (w) => F.embedding(w, int64([1, 3, 1, 0], [2, 2]), 2), [input([4, 3], 54)]);
  gradcheck('conv1d', (x, w, b) => F.conv1d(x, w, b, { padding: 1 }), [
    input([2, 3, 5], 55),
    input([4, 3, 3], 56),
    input([4], 57),
  ]);
  gradcheck('maxPool1d', (x) => F.maxPool1d(x, 2), [input([1, 2, 6], 58)]);
  gradcheck('avgPool1d', (x) => F.avgPool1d(x, 3, 1, 1), [input([1, 2, 6], 59)]);
  gradcheck('layerNorm', (x, w, b) => F.layerNorm(x, [4], w, b, 1e-5), [
    input([3, 4], 60),
    input([4], 61),
    input([4], 62),
  ]);
  gradcheck(
    'dropout with a fixed mask',
    (x) => {
      manualSeed(5);
      return F.dropout(x, 0.4, true);
    },
    [input([10], 63)],
  );
});

test('LSTM and GRU gradients match finite differences, packed by length', () => {
  const H = 2;
  const I = 3;
  const lstmParams = (gates: number) => [
    input([gates * H, I], 64),
    input([gates * H, H], 65),
    input([gates * H], 66),
    input([gates * H], 67),
    input([gates * H, I], 68),
    input([gates * H, H], 69),
    input([gates * H], 70),
    input([gates * H], 71),
  ];
  const lengths = () => int64([3, 2]);
  const run =
    (mode: 'lstm' | 'gru') =>
    (x: Tensor, ...params: Tensor[]) => {
      const r = F.rnn(mode, x, params, { lengths: lengths(), numLayers: 1, bidirectional: true });
      return cat([r.output.flatten(), r.hN.flatten()]);
    };
  gradcheck('bi-LSTM packed', run('lstm'), [input([2, 3, I], 72), ...lstmParams(4)]);
  gradcheck('bi-GRU packed', run('gru'), [input([2, 3, I], 73), ...lstmParams(3)]);
});

test('loss gradients match finite differences', () => {
  const target = () => int64([2, 0, -100, 1]);
  gradcheck(
    'cross entropy with ignore index and smoothing',
    (l) => F.crossEntropy(l, target(), { labelSmoothing: 0.1 }),
    [input([4, 3], 74)],
  );
  gradcheck(
    'cross entropy over sequences',
    (l) => F.crossEntropy(l, int64([0, 2, 1, -100], [2, 2]), { reduction: 'sum' }),
    [input([2, 3, 2], 75)],
  );
  gradcheck(
    'bce with logits',
    (l) => F.binaryCrossEntropyWithLogits(l, tensor([1, 0, 1, 1, 0, 0], [2, 3], 'float64')),
    [input([2, 3], 76)],
  );
  gradcheck('kl div batchmean', (l, t) => F.klDiv(l.logSoftmax(1), t.softmax(1)), [
    input([2, 3], 77),
    input([2, 3], 78),
  ]);
  gradcheck('mse', (a, b) => F.mseLoss(a, b), [input([5], 79), input([5], 80)]);
  gradcheck('margin ranking', (a, b) => F.marginRankingLoss(a, b, tensor([1, -1, 1], [3], 'float64'), 0.5), [
    input([3], 81),
    input([3], 82),
  ]);
  gradcheck('nll', (l) => F.nllLoss(l.logSoftmax(1), int64([1, 0])), [input([2, 3], 83)]);
  void fromTyped;
});
