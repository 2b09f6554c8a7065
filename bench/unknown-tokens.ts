/**
 * Tagging accuracy on the test tokens that never occur in the training split (exact spelling): the words a
 * tagger has to guess from their form and context, where a word-level net without character features sees
 * one [UNK] vector and the most-frequent-tag baseline its overall top tag. The bench prints it as
 * `unk_accuracy` beside the overall accuracy.
 */
import type { SequenceExample } from '../src/data/readers/types.js';
import type { SequenceFeatures, SequencePrediction } from '../src/tasks/sequence-labeling.js';
import { loadModelDir } from '../src/train/model-dir.js';

/** Every token spelling of the training sentences. */
export function seenTokens(train: readonly SequenceExample[]): Set<string> {
  return new Set(train.flatMap((e) => e.tokens));
}

/** Accuracy of `predicted` tags on the test tokens not in `seen` (0 when there are none). */
export function unknownTokenAccuracy(
  test: readonly SequenceExample[],
  predicted: readonly (readonly string[])[],
  seen: ReadonlySet<string>,
): number {
  let right = 0;
  let total = 0;
  test.forEach((e, i) =>
    e.tokens.forEach((token, w) => {
      if (seen.has(token)) return;
      total += 1;
      if (predicted[i][w] === e.tags![w]) right += 1;
    }),
  );
  return total ? right / total : 0;
}

/** The share of test tokens not in `seen`. */
export function unknownTokenShare(test: readonly SequenceExample[], seen: ReadonlySet<string>): number {
  const tokens = test.flatMap((e) => e.tokens);
  return tokens.filter((t) => !seen.has(t)).length / Math.max(1, tokens.length);
}

/** The tags a saved model directory predicts for the test sentences (libtorch, as `alembic predict`). */
export function predictTags(modelDir: string, test: readonly SequenceExample[]): string[][] {
  const { task, model } = loadModelDir(modelDir);
  const features = test.map((e) => task.encode({ tokens: e.tokens }) as SequenceFeatures);
  return (task.predict(model, features) as SequencePrediction[]).map((p) => p.tags);
}
