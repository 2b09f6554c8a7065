import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, balanceClasses, splitDataset } from '../../src/data/split.js';
import { UserError } from '../../src/util/errors.js';

interface Item {
  id: number;
  label: string;
  group: string;
}

/** 100 items: ids 0..99, label "a" for ids < 80 and "b" after, groups of 5 consecutive ids. */
const items: Item[] = Array.from({ length: 100 }, (_, id) => ({
  id,
  label: id < 80 ? 'a' : 'b',
  group: `g${Math.floor(id / 5)}`,
}));

const ids = (xs: Item[]) => xs.map((x) => x.id);
const count = (xs: Item[], label: string) => xs.filter((x) => x.label === label).length;

test('allocate: sizes add up, largest remainders first', () => {
  assert.deepEqual(allocate(10, [0.8, 0.1, 0.1]), [8, 1, 1]);
  // exact 3.5, 1.75, 1.75 → floors 3, 1, 1 and the two spare items go to the .75 remainders.
  assert.deepEqual(allocate(7, [0.5, 0.25, 0.25]), [3, 2, 2]);
  assert.deepEqual(allocate(3, [0.8, 0.1, 0.1]), [3, 0, 0]);
  assert.deepEqual(allocate(0, [0.8, 0.1, 0.1]), [0, 0, 0]);
});

test('splitDataset: a deterministic partition of the items', () => {
  const options = { train: 0.8, dev: 0.1, test: 0.1, seed: 7 };
  const a = splitDataset(items, options);
  const b = splitDataset(items, options);
  assert.deepEqual(a, b);
  assert.deepEqual([a.train.length, a.dev.length, a.test.length], [80, 10, 10]);
  const all = [...ids(a.train), ...ids(a.dev), ...ids(a.test)].sort((x, y) => x - y);
  assert.deepEqual(
    all,
    items.map((x) => x.id),
  );
  const other = splitDataset(items, { ...options, seed: 8 });
  assert.notDeepEqual(ids(other.test), ids(a.test));
});

test('splitDataset: stratification keeps the class ratio in every split', () => {
  for (const seed of [1, 2, 3]) {
    const s = splitDataset(items, { train: 0.8, dev: 0.1, test: 0.1, seed, stratifyBy: 'label' });
    // 80 "a" → 64/8/8 and 20 "b" → 16/2/2, exactly.
    assert.deepEqual([count(s.train, 'a'), count(s.dev, 'a'), count(s.test, 'a')], [64, 8, 8]);
    assert.deepEqual([count(s.train, 'b'), count(s.dev, 'b'), count(s.test, 'b')], [16, 2, 2]);
  }
  const byFunction = splitDataset(items, {
    train: 0.8,
    dev: 0.1,
    test: 0.1,
    seed: 1,
    stratifyBy: (x) => x.label,
  });
  assert.deepEqual(
    byFunction,
    splitDataset(items, { train: 0.8, dev: 0.1, test: 0.1, seed: 1, stratifyBy: 'label' }),
  );
});

test('splitDataset: groups stay whole', () => {
  const s = splitDataset(items, { train: 0.6, dev: 0.2, test: 0.2, seed: 3, groupBy: 'group' });
  const where = new Map<string, string>();
  for (const [name, part] of Object.entries(s)) {
    for (const item of part as Item[]) {
      assert.equal(where.get(item.group) ?? name, name, `group ${item.group} is split`);
      where.set(item.group, name);
    }
  }
  // 20 groups of 5: the middle-item rule gives exactly 12/4/4 groups here.
  assert.deepEqual([s.train.length, s.dev.length, s.test.length], [60, 20, 20]);
  // With stratification too, whole groups are spread within each class.
  const both = splitDataset(items, {
    train: 0.5,
    dev: 0.25,
    test: 0.25,
    seed: 4,
    groupBy: 'group',
    stratifyBy: 'label',
  });
  assert.deepEqual([count(both.train, 'b'), count(both.dev, 'b'), count(both.test, 'b')], [10, 5, 5]);
  assert.equal(both.train.length + both.dev.length + both.test.length, 100);
});

test('splitDataset: ratios must be valid', () => {
  assert.throws(() => splitDataset(items, { train: 0.8, dev: 0.3, test: 0.1, seed: 1 }), UserError);
  assert.throws(() => splitDataset(items, { train: 1.2, dev: -0.1, test: -0.1, seed: 1 }), /non-negative/);
  const noTest = splitDataset(items, { train: 0.9, dev: 0.1, test: 0, seed: 1 });
  assert.equal(noTest.test.length, 0);
});

test('balanceClasses: every class cut to the same size, original order kept', () => {
  const balanced = balanceClasses(items, 'label', 5);
  assert.equal(count(balanced, 'a'), 20);
  assert.equal(count(balanced, 'b'), 20);
  assert.deepEqual(
    ids(balanced),
    [...ids(balanced)].sort((x, y) => x - y),
  );
  assert.deepEqual(balanced, balanceClasses(items, 'label', 5));
  assert.notDeepEqual(ids(balanced), ids(balanceClasses(items, 'label', 6)));
  const capped = balanceClasses(items, (x) => x.label, 5, 30);
  assert.deepEqual([count(capped, 'a'), count(capped, 'b')], [30, 20]);
  assert.throws(() => balanceClasses(items, 'label', 5, 0), UserError);
});
