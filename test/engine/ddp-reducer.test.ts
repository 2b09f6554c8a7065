// c10d's DDP reducer across two real processes on loopback: gradients reduced during backward equal the
// gradient of the global batch's mean loss computed in one process (ranks with unequal rows, a parameter
// used on one rank only, one used on none, several buckets, several steps), and a dead peer turns the
// backward into an error naming the rank instead of a hang.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, referenceStep } from '../helpers/dist-tiny-model.js';
import { runBoth, runUnsupervised } from '../helpers/run-dist-worker.js';

test('gradients reduced during backward equal the global batch mean gradient computed in one process', async () => {
  const [r0, r1] = await runBoth('ddp-reducer');
  const expected = referenceStep();
  for (const r of [r0!, r1!]) {
    // 16-byte buckets, closed once full: the 24-byte weight, bias and extra (8 bytes each), the unused one.
    assert.equal(r.buckets, 3);
    const grads = r.grads as (number[] | null)[];
    expected.grads.forEach((e, i) => assertClose(grads[i]!, e));
    // No rank used the fourth parameter: it keeps no gradient, as in one process.
    assert.equal(grads[3], null);
    // The reducer's own timings: the all-reduce took time, and no more of it overlapped backward than it lasted.
    const [computeMs, commMs, overlapMs] = r.timings as number[];
    assert.ok(computeMs! >= 0 && commMs! > 0 && overlapMs! >= 0 && overlapMs! <= commMs!, String(r.timings));
  }
});

test('a peer that exits makes the backward through the reducer fail with an error naming the rank', async () => {
  const r = await runUnsupervised('ddp-peer-exits', 20);
  assert.equal(r.errorName, 'DistributedError');
  assert.match(
    r.error!,
    /^rank 0: the gradient all-reduce failed: .* a peer rank stopped or did not answer within 20 s$/,
  );
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
});

test('a peer that stays silent makes the backward through the reducer fail after the timeout, not hang', async () => {
  // 6 s: the same timeout covers the rendezvous, which two processes starting on a loaded machine need.
  const r = await runUnsupervised('ddp-peer-hangs', 6);
  assert.equal(r.errorName, 'DistributedError');
  assert.match(r.error!, /^rank 0: the gradient all-reduce failed: .*within 6 s$/);
  assert.ok(r.ms >= 5500 && r.ms < 30_000, `took ${r.ms} ms`);
});
