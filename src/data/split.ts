/**
 * Seeded train/dev/test splits and class balancing. The same items, options and seed always give the
 * same split. Options:
 *  - stratifyBy: each class is split in the given ratios on its own, so every split keeps the class mix;
 *  - groupBy: items of one group (a Brown file, an author, a user) all land in the same split, so a model
 *    is never tested on text it has half seen. With both, whole groups are assigned within each class of
 *    the group's most common key.
 */
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export type KeyOf<T> = ((item: T) => string) | keyof T;

export interface SplitRatios {
  train: number;
  dev: number;
  test: number;
}

export interface SplitOptions<T> extends SplitRatios {
  seed: number;
  stratifyBy?: KeyOf<T>;
  groupBy?: KeyOf<T>;
}

export interface Splits<T> {
  train: T[];
  dev: T[];
  test: T[];
}

const SPLIT_NAMES = ['train', 'dev', 'test'] as const;

export function splitDataset<T>(items: readonly T[], options: SplitOptions<T>): Splits<T> {
  const ratios = checkRatios(options);
  const rng = new Rng(options.seed);
  const units =
    options.groupBy === undefined ? items.map((item) => [item]) : groupItems(items, options.groupBy);
  const strataKey = options.stratifyBy === undefined ? undefined : keyFunction(options.stratifyBy);
  const strata =
    strataKey === undefined ? [units] : [...bucket(units, (unit) => majorityKey(unit, strataKey)).values()];

  const out: Splits<T> = { train: [], dev: [], test: [] };
  for (const stratum of strata) {
    const assigned =
      options.groupBy === undefined ? splitItems(stratum, ratios, rng) : splitGroups(stratum, ratios, rng);
    SPLIT_NAMES.forEach((name, s) => out[name].push(...assigned[s].flat()));
  }
  // Strata were appended one after another; shuffle so that no split is sorted by class.
  for (const name of SPLIT_NAMES) rng.shuffle(out[name]);
  return out;
}

/**
 * Downsamples every class to the same size: `maxPerClass`, or the size of the smallest class when not
 * given (a class smaller than maxPerClass keeps all its items). Items keep their original order.
 */
export function balanceClasses<T>(
  items: readonly T[],
  key: KeyOf<T>,
  seed: number,
  maxPerClass?: number,
): T[] {
  if (maxPerClass !== undefined && !(Number.isInteger(maxPerClass) && maxPerClass > 0)) {
    throw new UserError(`maxPerClass must be a positive integer, got ${maxPerClass}`);
  }
  const rng = new Rng(seed);
  const indexed = items.map((item, index) => ({ item, index }));
  const keyOf = keyFunction(key);
  const classes = bucket(indexed, (x) => keyOf(x.item));
  const cap = maxPerClass ?? Math.min(...[...classes.values()].map((c) => c.length));
  const kept: { item: T; index: number }[] = [];
  for (const members of classes.values()) kept.push(...rng.shuffle(members).slice(0, cap));
  return kept.sort((a, b) => a.index - b.index).map((x) => x.item);
}

/** Splits single items: exact sizes by largest remainder, so the three parts always add up. */
function splitItems<U>(units: U[], ratios: number[], rng: Rng): U[][] {
  const shuffled = rng.shuffle([...units]);
  const sizes = allocate(shuffled.length, ratios);
  return [
    shuffled.slice(0, sizes[0]),
    shuffled.slice(sizes[0], sizes[0] + sizes[1]),
    shuffled.slice(sizes[0] + sizes[1]),
  ];
}

/**
 * Splits whole groups: groups in random order fill train, then dev, then test; a group goes to the
 * split its middle item falls in, so sizes come close to the ratios without breaking a group.
 */
function splitGroups<U>(groups: U[][], ratios: number[], rng: Rng): U[][][] {
  const shuffled = rng.shuffle([...groups]);
  const total = shuffled.reduce((n, g) => n + g.length, 0);
  const bounds = [ratios[0] * total, (ratios[0] + ratios[1]) * total];
  const out: U[][][] = [[], [], []];
  let seen = 0;
  for (const group of shuffled) {
    const middle = seen + group.length / 2;
    out[middle < bounds[0] ? 0 : middle < bounds[1] ? 1 : 2].push(group);
    seen += group.length;
  }
  return out;
}

/** Integer sizes proportional to ratios and summing to n (largest remainder; ties go to the earlier split). */
export function allocate(n: number, ratios: readonly number[]): number[] {
  const exact = ratios.map((r) => r * n);
  const sizes = exact.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, rest: x - Math.floor(x) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    sizes[i]++;
    left--;
  }
  return sizes;
}

function checkRatios(r: SplitRatios): number[] {
  const ratios = [r.train, r.dev, r.test];
  if (ratios.some((x) => !(x >= 0)) || Math.abs(ratios[0] + ratios[1] + ratios[2] - 1) > 1e-6) {
    throw new UserError(
      `split ratios must be non-negative and add up to 1, got train ${r.train}, dev ${r.dev}, test ${r.test}`,
    );
  }
  return ratios;
}

function keyFunction<T>(key: KeyOf<T>): (item: T) => string {
  return typeof key === 'function' ? key : (item: T) => String(item[key]);
}

/** Groups in order of first appearance, so the result does not depend on Map hashing or key names. */
function groupItems<T>(items: readonly T[], groupBy: KeyOf<T>): T[][] {
  return [...bucket(items, keyFunction(groupBy)).values()];
}

function bucket<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const buckets = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let members = buckets.get(k);
    if (!members) buckets.set(k, (members = []));
    members.push(item);
  }
  return buckets;
}

/** The most common key in a group (the first one seen on ties). */
function majorityKey<T>(group: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  let best = key(group[0]);
  for (const item of group) {
    const k = key(item);
    const c = (counts.get(k) ?? 0) + 1;
    counts.set(k, c);
    if (c > (counts.get(best) ?? 0)) best = k;
  }
  return best;
}
