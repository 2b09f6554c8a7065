import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int64, manualSeed, tensor } from '../../src/engine/create.js';
import * as F from '../../src/engine/functional.js';
import type { Embedding } from '../../src/engine/nn/embedding.js';
import { Linear } from '../../src/engine/nn/linear.js';
import { Module } from '../../src/engine/nn/module.js';
import { AdamW } from '../../src/engine/optim/adamw.js';
import { zeroGrad } from '../../src/engine/optim/clip.js';
import { liveTensorCount, noGrad, tidy } from '../../src/engine/scope.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { BowEncoder } from '../../src/nets/bow.js';
import { CnnEncoder } from '../../src/nets/cnn.js';
import type { EncoderInput, TextEncoder } from '../../src/nets/encoder.js';
import { maskedMax, maskedMean, maskedSum } from '../../src/nets/pooling.js';
import { RnnEncoder } from '../../src/nets/rnn-encoder.js';
import { Rng } from '../../src/util/rng.js';

const PAD = 0;
const VOCAB = 20;

/** Right-padded ids, mask and lengths for token-id lists (all non-empty). */
function batchOf(texts: number[][]): EncoderInput {
  const time = Math.max(...texts.map((t) => t.length));
  const ids = texts.flatMap((t) => [...t, ...new Array<number>(time - t.length).fill(PAD)]);
  const mask = texts.flatMap((t) => Array.from({ length: time }, (_, i) => (i < t.length ? 1 : 0)));
  return {
    ids: int64(ids, [texts.length, time]),
    mask: tensor(mask, [texts.length, time], 'bool'),
    lengths: int64(texts.map((t) => t.length)),
  };
}

/** Every preset net here keeps its token table as `embedding`. */
type EmbeddingEncoder = TextEncoder & { readonly embedding: Embedding };

interface NetCase {
  name: string;
  build: () => EmbeddingEncoder;
  sequenceSize: number;
  pooledSize: number;
  paramNames: string[];
}

const rnnNames = (layers: number, bidirectional: boolean): string[] => {
  const names: string[] = [];
  for (let l = 0; l < layers; l++) {
    for (const suffix of bidirectional ? ['', '_reverse'] : ['']) {
      for (const p of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']) names.push(`rnn.${p}_l${l}${suffix}`);
    }
  }
  return names;
};

const NETS: NetCase[] = [
  {
    name: 'bow',
    build: () => new BowEncoder({ vocabSize: VOCAB, embeddingDim: 12, hiddenSize: 16 }),
    sequenceSize: 12,
    pooledSize: 16,
    paramNames: ['embedding.weight', 'fc.weight', 'fc.bias'],
  },
  {
    name: 'cnn',
    build: () => new CnnEncoder({ vocabSize: VOCAB, embeddingDim: 12, numFilters: 8 }),
    sequenceSize: 8,
    pooledSize: 3 * 8,
    paramNames: [
      'embedding.weight',
      'convs.0.weight',
      'convs.0.bias',
      'convs.1.weight',
      'convs.1.bias',
      'convs.2.weight',
      'convs.2.bias',
      'token_conv.weight',
      'token_conv.bias',
    ],
  },
  {
    name: 'gru',
    build: () => new RnnEncoder({ cell: 'gru', vocabSize: VOCAB, embeddingDim: 12, hiddenSize: 8 }),
    sequenceSize: 2 * 8,
    pooledSize: 2 * 2 * 8,
    paramNames: ['embedding.weight', ...rnnNames(1, true)],
  },
  {
    name: 'lstm',
    build: () =>
      new RnnEncoder({
        cell: 'lstm',
        vocabSize: VOCAB,
        embeddingDim: 12,
        hiddenSize: 8,
        numLayers: 2,
        bidirectional: false,
      }),
    sequenceSize: 8,
    pooledSize: 2 * 8,
    paramNames: ['embedding.weight', ...rnnNames(2, false)],
  },
];

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const worst = Math.max(0, ...actual.map((a, i) => Math.abs(a - expected[i])));
  assert.ok(worst <= tol, `${what}: differs by ${worst}`);
}

// ---------------------------------------------------------------- pooling

test('masked pooling ignores padding, including negative features under max', () => {
  tidy(() => {
    // Row 0: tokens (1, -4) and (3, -2), then padding (100, 0). Row 1: one token (-5, 7).
    const x = tensor([1, -4, 3, -2, 100, 0, -5, 7, 100, 0, 100, 0], [2, 3, 2]);
    const mask = tensor([1, 1, 0, 1, 0, 0], [2, 3], 'bool');
    assert.deepEqual(maskedSum(x, mask).toArray(), [4, -6, -5, 7]);
    assert.deepEqual(maskedMean(x, mask).toArray(), [2, -3, -5, 7]);
    // Padding holds 0 in the second feature, which would beat -2 and 7 is beaten by nothing.
    assert.deepEqual(maskedMax(x, mask).toArray(), [3, -2, -5, 7]);
  });
});

// ---------------------------------------------------------------- shapes and names

for (const net of NETS) {
  test(`${net.name}: parameter names and output shapes, with lengths 1 and 30 in one batch`, () => {
    manualSeed(1);
    const enc = net.build().eval();
    assert.deepEqual([...enc.stateDict().keys()], net.paramNames);
    assert.equal(enc.sequenceSize, net.sequenceSize);
    assert.equal(enc.pooledSize, net.pooledSize);
    tidy(() => {
      const long = Array.from({ length: 30 }, (_, i) => 1 + (i % (VOCAB - 1)));
      const out = enc.encode(batchOf([[5], long, [3, 4]]));
      assert.deepEqual(out.sequence.shape, [3, 30, net.sequenceSize]);
      assert.deepEqual(out.pooled.shape, [3, net.pooledSize]);
      assert.ok(out.pooled.toArray().every(Number.isFinite), 'pooled values are finite');
      // A batch whose only text is one token long.
      const single = enc.encode(batchOf([[9]]));
      assert.deepEqual(single.sequence.shape, [1, 1, net.sequenceSize]);
      assert.deepEqual(single.pooled.shape, [1, net.pooledSize]);
    });
    enc.dispose();
  });
}

// ---------------------------------------------------------------- padding invariance

for (const net of NETS) {
  test(`${net.name}: a text pools the same alone and padded next to a longer text`, () => {
    manualSeed(2);
    const enc = net.build().eval();
    const long = Array.from({ length: 30 }, (_, i) => 1 + ((i * 7) % (VOCAB - 1)));
    // Lengths 1 and 3 are shorter than the CNN's widest kernel (4); 6 is not.
    for (const text of [[7], [4, 11, 2], [3, 3, 9, 1, 15, 8]]) {
      tidy(() => {
        const alone = enc.encode(batchOf([text]));
        const batched = enc.encode(batchOf([long, text]));
        const what = `${net.name} [${text.join(' ')}]`;
        assertClose(batched.pooled.select(0, 1).toArray(), alone.pooled.select(0, 0).toArray(), 1e-5, what);
        // The real positions of the sequence output agree too.
        const realPart = batched.sequence.select(0, 1).slice(0, 0, text.length);
        assertClose(realPart.toArray(), alone.sequence.select(0, 0).toArray(), 1e-5, `${what} sequence`);
      });
    }
    enc.dispose();
  });
}

// ---------------------------------------------------------------- hand-computed forward passes

test('bow: pooled = relu(fc(squash(sum or mean of embeddings))), hand-computed', () => {
  const cases: { pooling: 'sum' | 'mean'; activation: 'softsign' | 'tanh'; expected: number }[] = [
    { pooling: 'mean', activation: 'softsign', expected: 2 / 3 }, // mean(1, 3) = 2 → 2 / (1 + 2)
    { pooling: 'sum', activation: 'softsign', expected: 4 / 5 }, // 4 → 4 / (1 + 4)
    { pooling: 'sum', activation: 'tanh', expected: Math.tanh(4) },
  ];
  for (const c of cases) {
    const enc = new BowEncoder({ vocabSize: 4, embeddingDim: 1, hiddenSize: 1, ...c });
    noGrad(() => {
      enc.embedding.weight.copy_(tensor([0, 1, 2, 3], [4, 1]));
      enc.fc!.weight.fill_(1);
      enc.fc!.bias!.fill_(0);
    });
    tidy(() => {
      const out = enc.encode(
        batchOf([
          [1, 3],
          [2, 2, 2],
        ]),
      );
      const second = c.pooling === 'mean' ? 2 : 6;
      const squash = (v: number) => (c.activation === 'tanh' ? Math.tanh(v) : v / (1 + v));
      assertClose(out.pooled.toArray(), [c.expected, squash(second)], 1e-6, `${c.pooling}/${c.activation}`);
    });
    enc.dispose();
  }
});

test('cnn: windows reading padding never win the max, and short texts keep one window', () => {
  // One filter of width 2 summing its window, bias 10, and embeddings e(id) = -id: a real window scores
  // 10 - (sum of its ids), while an all-padding window would score 10 and beat every real one.
  const enc = new CnnEncoder({ vocabSize: 6, embeddingDim: 1, numFilters: 1, kernelWidths: [2] });
  noGrad(() => {
    // The padding row is not zero here, as after loading a checkpoint that trained it: padding must
    // still read as zero, as the right-padding of short texts does.
    enc.embedding.weight.copy_(tensor([5, -1, -2, -3, -4, -5], [6, 1]));
    enc.convs[0].weight.fill_(1);
    enc.convs[0].bias.fill_(10);
  });
  tidy(() => {
    const out = enc.encode(batchOf([[1, 2], [3], [2, 5, 1, 1, 4]]));
    // [1 2] → 10 − 3 = 7; [3] → its one window (3, pad) → 7; [2 5 1 1 4] → best window (1 1) → 8.
    assert.deepEqual(out.pooled.toArray(), [7, 7, 8]);
  });
  enc.dispose();
});

test('option mistakes are reported, not passed on to libtorch', () => {
  assert.throws(
    () => new CnnEncoder({ vocabSize: 5, embeddingDim: 4, numFilters: 2, kernelWidths: [] }),
    /cnn: kernelWidths must list at least one width/,
  );
  assert.throws(
    () => new CnnEncoder({ vocabSize: 5, embeddingDim: 4, numFilters: 2, kernelWidths: [3, 0] }),
    /cnn: kernel width must be a positive integer, got 0/,
  );
  assert.throws(
    () => new RnnEncoder({ cell: 'gru', vocabSize: 5, embeddingDim: 4, hiddenSize: 2, dropout: 1 }),
    /gru: dropout must be in \[0, 1\), got 1/,
  );
  assert.throws(
    () => new BowEncoder({ vocabSize: 5, embeddingDim: 0, hiddenSize: 2 }),
    /bow: embeddingDim must be a positive integer, got 0/,
  );
});

// ---------------------------------------------------------------- gradients

for (const net of NETS) {
  test(`${net.name}: gradients reach the embedding, but not its padding row`, () => {
    manualSeed(3);
    const enc = net.build();
    tidy(() => {
      const out = enc.encode(
        batchOf([
          [1, 2, 3, 4, 5, 6],
          [8, 9],
        ]),
      );
      out.pooled.sum().add(out.sequence.sum()).backward();
      const grad = enc.embedding.weight.grad;
      assert.ok(grad !== null, 'embedding has a gradient');
      for (const id of [1, 2, 5, 8, 9]) {
        const norm = grad.select(0, id).abs().sum().item();
        assert.ok(norm > 0, `row ${id} gets gradient`);
      }
      assert.equal(grad.select(0, PAD).abs().sum().item(), 0, 'padding row gets none');
      assert.equal(grad.select(0, 7).abs().sum().item(), 0, 'an unused id gets none');
    });
    enc.dispose();
  });
}

// ---------------------------------------------------------------- learning a tiny task

/** Label 1 when token 7 occurs. Texts of 1–12 tokens, half of them containing a 7. */
function keywordTask(n: number, seed: number): { texts: number[][]; labels: number[] } {
  const rng = new Rng(seed);
  const texts: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const length = 1 + rng.int(12);
    const text = Array.from({ length }, () => {
      const id = 1 + rng.int(VOCAB - 2); // 1 … 18
      return id >= 7 ? id + 1 : id; // skip 7
    });
    const positive = i % 2 === 0;
    if (positive) text[rng.int(length)] = 7;
    texts.push(text);
    labels.push(positive ? 1 : 0);
  }
  return { texts, labels };
}

class Classifier extends Module {
  readonly head: Linear;
  constructor(readonly encoder: TextEncoder) {
    super();
    this.child('encoder', encoder);
    this.head = this.child('head', new Linear(encoder.pooledSize, 2));
  }
  logits(input: EncoderInput): Tensor {
    return this.head.forward(this.encoder.encode(input).pooled);
  }
}

for (const net of NETS) {
  test(`${net.name}: learns "does token 7 occur" to ≥ 95% training accuracy`, () => {
    manualSeed(4);
    const { texts, labels } = keywordTask(96, 11);
    const model = new Classifier(net.build());
    const params = model.parameters();
    const opt = new AdamW(params, { lr: 0.01, weightDecay: 0.01 });
    const batches: { input: EncoderInput; target: Tensor }[] = [];
    for (let start = 0; start < texts.length; start += 32) {
      const input = batchOf(texts.slice(start, start + 32));
      for (const t of Object.values(input)) t.keep();
      batches.push({ input, target: int64(labels.slice(start, start + 32)).keep() });
    }
    let liveAfterWarmup = 0;
    const steps = 150;
    for (let step = 0; step < steps; step++) {
      const { input, target } = batches[step % batches.length];
      zeroGrad(params);
      tidy(() => F.crossEntropy(model.logits(input), target).backward());
      opt.step();
      if (step === 9) liveAfterWarmup = liveTensorCount();
    }
    assert.equal(liveTensorCount(), liveAfterWarmup, 'memory stays flat across steps');
    model.eval();
    const correct = tidy(() =>
      batches.reduce((sum, { input, target }) => {
        const predicted = model.logits(input).argmax(1);
        return sum + predicted.eq(target).float().sum().item();
      }, 0),
    );
    const accuracy = correct / texts.length;
    assert.ok(accuracy >= 0.95, `${net.name}: training accuracy ${accuracy}`);
    model.dispose();
    opt.dispose();
    for (const { input, target } of batches) for (const t of [...Object.values(input), target]) t.dispose();
  });
}
