// The c10d process group across two real processes on loopback: all-reduce, broadcast and the bucketed
// gradient reducer against hand computation, and a dead or silent peer turning into a clear error within
// the timeout instead of a hang.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, referenceStep } from '../helpers/dist-tiny-model.js';
import { runBoth, runUnsupervised } from '../helpers/run-dist-worker.js';

test('all-reduce, broadcast and the gradient reducer across two processes match hand computation', async () => {
  const [r0, r1] = await runBoth('collectives');
  for (const r of [r0!, r1!]) {
    // all-reduce: the element-wise sum of both ranks' inputs ([r+1, 2r, -r, 0.5] and [10r+1, 3]).
    assert.deepEqual(r.allreduce, [
      [1 + 2, 0 + 2, 0 - 1, 1],
      [1 + 11, 6],
    ]);
    // broadcast from rank 1: rank 1's [11, 12] everywhere.
    assert.deepEqual(r.broadcast, [11, 12]);
    assert.deepEqual(r.sumNumbers, [1, 0.5, 2e15 + 1]);
    // 16-byte buckets: the 24-byte weight alone, then bias and extra (8 bytes each) together.
    assert.equal(r.buckets, 2);
  }
  // The reducer: the gradient of the mean loss over all 8 rows (3 on rank 0, 5 on rank 1), plus rank 1's
  // extra term weighted by its 5 of 8 rows — computed here in one process — and Σ loss_r · n_r.
  const expected = referenceStep();
  for (const r of [r0!, r1!]) {
    const grads = r.grads as number[][];
    expected.grads.forEach((e, i) => assertClose(grads[i]!, e));
    assertClose([r.lossSum as number], [expected.lossSum]);
  }
});

test('a peer that exits makes the next collective fail at once with an error naming the rank', async () => {
  const r = await runUnsupervised('peer-exits', 20);
  assert.equal(r.errorName, 'DistributedError');
  assert.match(r.error!, /^rank 0: all-reduce failed: .* a peer rank stopped or did not answer within 20 s$/);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
});

test('a peer that stays silent makes the collective fail after the timeout, not hang', async () => {
  const r = await runUnsupervised('peer-hangs', 2);
  assert.equal(r.errorName, 'DistributedError');
  assert.match(r.error!, /^rank 0: all-reduce failed: .*within 2 s$/);
  assert.ok(r.ms >= 1500 && r.ms < 15_000, `took ${r.ms} ms`);
});
