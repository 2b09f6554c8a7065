import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW,
  Embedding,
  F,
  int64,
  Linear,
  liveTensorCount,
  manualSeed,
  randint,
  tidy,
  zeroGrad,
} from '../src/engine/index.js';

test('a 1,000-step training loop keeps tensors and resident memory flat', () => {
  manualSeed(0);
  const emb = new Embedding(2000, 64);
  const head = new Linear(64, 4);
  const params = [...emb.parameters(), ...head.parameters()];
  const opt = new AdamW(params, { lr: 1e-3 });
  const step = () => {
    zeroGrad(params);
    tidy(() => {
      const ids = randint(0, 2000, [32, 20]);
      const logits = head.forward(emb.forward(ids).mean(1));
      const loss = F.crossEntropy(logits, int64(Array.from({ length: 32 }, (_, i) => i % 4)));
      loss.backward();
    });
    opt.step();
  };
  for (let i = 0; i < 100; i++) step();
  global.gc?.();
  const tensorsAfterWarmup = liveTensorCount();
  const rssAfterWarmup = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) step();
  global.gc?.();
  const growth = (process.memoryUsage().rss - rssAfterWarmup) / rssAfterWarmup;
  assert.equal(liveTensorCount(), tensorsAfterWarmup);
  assert.ok(growth < 0.05, `resident memory grew ${(growth * 100).toFixed(1)}% over 1,000 steps`);
});
