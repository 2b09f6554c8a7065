import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getNumThreads } from '../../../src/engine/runtime.js';
import { timeInRounds } from '../../../src/distill/data/measure-models.js';

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('timing: warm-up, then interleaved rounds; each model keeps its best round', async () => {
  const threads = getNumThreads();
  const calls: string[] = [];
  let slowCalls = 0;
  // "a" is slow only during the first timed round (a load spike); "b" is always ~1 ms.
  const a = (e: number) => {
    calls.push(`a${e}`);
    slowCalls++;
    // 20 warm-up calls (the minimum), then the first round's 10 calls are slow.
    if (slowCalls > 20 && slowCalls <= 30) busyWait(5);
  };
  const b = (e: number) => {
    calls.push(`b${e}`);
    busyWait(1);
  };
  const best = await timeInRounds([a, b], [0, 1, 2], 10, 3);
  // 20 warm-up calls each, then rounds of 10 calls: a, b, a, b, a, b.
  assert.equal(calls.length, 2 * 20 + 3 * 2 * 10);
  const timed = calls
    .slice(40)
    .map((c) => c[0])
    .join('');
  assert.equal(timed, ['a', 'b', 'a', 'b', 'a', 'b'].map((m) => m.repeat(10)).join(''));
  // Examples cycle through the list.
  assert.deepEqual(calls.slice(40, 44), ['a0', 'a1', 'a2', 'a0']);
  // a's spike (≥ 50 ms) is ignored: its best round is far faster than b's (≥ 10 ms).
  assert.ok(best[0] < 0.01, `a: ${best[0]} s`);
  assert.ok(best[1] >= 0.01, `b: ${best[1]} s`);
  assert.equal(getNumThreads(), threads, 'the thread count is restored');
});

test('timing: a predict that returns a promise (onnxruntime) is awaited, call by call', async () => {
  let inFlight = 0;
  let most = 0;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const asyncPredict = async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    await sleep(2);
    inFlight--;
  };
  const syncPredict = () => busyWait(0.1);
  const best = await timeInRounds([syncPredict, asyncPredict], ['x'], 5, 2);
  assert.equal(most, 1, 'one call at a time');
  // Five awaited 2 ms sleeps take ≥ 10 ms; had they not been awaited the round would take ~0.
  assert.ok(best[1] >= 0.0095, `async: ${best[1]} s`);
  assert.ok(best[0] < best[1], `sync ${best[0]} s vs async ${best[1]} s`);
});
