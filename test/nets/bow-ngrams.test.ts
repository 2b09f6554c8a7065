import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int64, tensor } from '../../src/engine/create.js';
import { noGrad, tidy } from '../../src/engine/scope.js';
import { BowEncoder } from '../../src/nets/bow.js';

test('bow: hashed n-gram rows start at zero, word rows do not', () => {
  const enc = new BowEncoder({ vocabSize: 10, embeddingDim: 4, hiddenSize: 3, hashedRows: 6 });
  const rows = tidy(() => enc.embedding.weight.toArray());
  const norm = (r: number) => rows.slice(r * 4, r * 4 + 4).reduce((s, x) => s + Math.abs(x), 0);
  for (let r = 4; r < 10; r++) assert.equal(norm(r), 0, `hashed row ${r}`);
  for (let r = 1; r < 4; r++) assert.ok(norm(r) > 0, `word row ${r}`);
});

test('bow linear: the pooled vector is the masked mean of the embeddings, no layer after it', () => {
  const enc = new BowEncoder({ vocabSize: 4, embeddingDim: 2, hiddenSize: 7, linear: true });
  assert.equal(enc.pooledSize, 2);
  assert.equal(enc.fc, undefined);
  assert.ok(!enc.stateDict().has('fc.weight'));
  noGrad(() => enc.embedding.weight.copy_(tensor([0, 0, 1, 2, 3, 4, 5, 6], [4, 2])));
  enc.eval();
  tidy(() => {
    const ids = int64([1, 3, 0], [1, 3]);
    const mask = ids.ne(0);
    const lengths = int64([2]);
    assert.deepEqual(enc.encode({ ids, mask, lengths }).pooled.toArray(), [3, 4]); // mean of (1, 2) and (5, 6)
  });
});

test('bow token weights: the bag is the exp(s)-weighted mean of the real tokens, plain mean at start', () => {
  const enc = new BowEncoder({
    vocabSize: 4,
    embeddingDim: 2,
    hiddenSize: 7,
    linear: true,
    tokenWeights: true,
  });
  noGrad(() => enc.embedding.weight.copy_(tensor([0, 0, 1, 2, 3, 4, 5, 6], [4, 2])));
  enc.eval();
  const pooled = () =>
    tidy(() => {
      const ids = int64([1, 3, 0], [1, 3]);
      return enc.encode({ ids, mask: ids.ne(0), lengths: int64([2]) }).pooled.toArray();
    });
  assert.deepEqual(pooled(), [3, 4]); // log-weights start at 0: the mean of (1, 2) and (5, 6)
  noGrad(() => enc.tokenWeight!.weight.copy_(tensor([7, Math.log(3), 0, 0], [4, 1])));
  // weights 3 and 1 (the padding row's 7 is masked out): (3·(1, 2) + (5, 6)) / 4
  const [x, y] = pooled();
  assert.ok(Math.abs(x - 2) < 1e-6 && Math.abs(y - 3) < 1e-6, `${x}, ${y}`);
});
