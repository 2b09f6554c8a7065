import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

test('Rng is deterministic for a seed and restores its state', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.nextUint32()),
  );
  const state = a.getState();
  const next = a.next();
  const c = new Rng(7);
  c.setState(state);
  assert.equal(c.next(), next);
  assert.notDeepEqual(new Rng(1).nextUint32(), new Rng(2).nextUint32());
});

test('Rng.int stays in range and covers it', () => {
  const r = new Rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = r.int(7);
    assert.ok(v >= 0 && v < 7);
    seen.add(v);
  }
  assert.equal(seen.size, 7);
});
