import type { Rng } from '../../util/rng.js';
import { UserError } from '../../util/errors.js';
import type { SameTagSampler } from './pos-lexicon.js';

/**
 * The three augmentation strategies of data distillation (guide §6.3.2), as pure functions of a word
 * sequence and a seeded generator. They make new, unlabeled inputs near the training distribution for
 * the teacher to label and the student to learn from.
 */

/** The placeholder for a hidden word; tokenizers must keep it as one token. */
export const UNK_TOKEN = '[UNK]';

export const STRATEGY_NAMES = ['unk', 'pos', 'nsample'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];
/** Mixing weights: how often each strategy makes a sample, relative to the others. */
export type StrategyWeights = Partial<Record<StrategyName, number>>;

/** UNK noise: each word independently becomes [UNK] with probability p. */
export function unkNoise(words: readonly string[], p: number, rng: Rng): string[] {
  return words.map((w) => (rng.next() < p ? UNK_TOKEN : w));
}

/**
 * Same-POS replacement: each tagged word, with probability p, becomes another dataset word of its
 * tag. Untagged words, and words whose tag has no other word, stay as they are.
 */
export function posReplace(
  words: readonly string[],
  tags: readonly (string | undefined)[],
  p: number,
  lexicon: SameTagSampler,
  rng: Rng,
): string[] {
  return words.map((w, i) => {
    const tag = tags[i];
    if (tag === undefined || rng.next() >= p) return w;
    return lexicon.sampleOther(tag, w, rng) ?? w;
  });
}

/** N-sampling: a contiguous span of uniform random length m, 0 < m ≤ length, at a uniform random start. */
export function nSample(words: readonly string[], rng: Rng): string[] {
  if (words.length === 0) return [];
  const m = 1 + rng.int(words.length);
  const start = rng.int(words.length - m + 1);
  return words.slice(start, start + m);
}

/** Validates the weights and returns a seeded chooser that picks strategies in their proportions. */
export function strategyChooser(weights: StrategyWeights): (rng: Rng) => StrategyName {
  for (const key of Object.keys(weights)) {
    if (!(STRATEGY_NAMES as readonly string[]).includes(key)) {
      throw new UserError(`unknown augmentation strategy "${key}" (known: ${STRATEGY_NAMES.join(', ')})`);
    }
  }
  const active = STRATEGY_NAMES.map((name) => [name, weights[name] ?? 0] as const);
  for (const [name, w] of active) {
    if (!Number.isFinite(w) || w < 0)
      throw new UserError(`strategy weight ${name}=${w} must be a number ≥ 0`);
  }
  const total = active.reduce((sum, [, w]) => sum + w, 0);
  if (total <= 0) throw new UserError(`no augmentation strategy has a positive weight`);
  return (rng) => {
    let r = rng.next() * total;
    for (const [name, w] of active) {
      if (r < w) return name;
      r -= w;
    }
    // Rounding can leave r a hair above the last positive weight; that strategy is the right answer.
    return active.filter(([, w]) => w > 0).at(-1)![0];
  };
}

/**
 * Parses the CLI's `--strategies` value: `unk,pos,nsample` (equal weights) or `unk=2,pos=1,nsample=1`.
 */
export function parseStrategies(spec: string): StrategyWeights {
  const weights: StrategyWeights = {};
  for (const part of spec.split(',').map((s) => s.trim())) {
    if (part === '') continue;
    const [name, value, extra] = part.split('=').map((s) => s.trim());
    if (!(STRATEGY_NAMES as readonly string[]).includes(name)) {
      throw new UserError(`--strategies: unknown strategy "${name}" (known: ${STRATEGY_NAMES.join(', ')})`);
    }
    const weight = value === undefined ? 1 : Number(value);
    if (extra !== undefined || value === '' || !Number.isFinite(weight) || weight < 0) {
      throw new UserError(`--strategies: "${part}" must be a name or name=weight with weight ≥ 0`);
    }
    if (name in weights) throw new UserError(`--strategies: "${name}" is given twice`);
    weights[name as StrategyName] = weight;
  }
  if (Object.keys(weights).length === 0) throw new UserError('--strategies: names no strategy');
  return weights;
}
