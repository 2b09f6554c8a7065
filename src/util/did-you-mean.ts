/**
 * "did you mean" for names a user typed: a misspelled config key, metric or option value gets the
 * nearest known name when it is only a typo away (edit distance from fastest-levenshtein).
 */
import { distance } from 'fastest-levenshtein';

/** The closest candidate within a typo's reach (a third of the word's length, at least 1), if any. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = distance(word.toLowerCase(), name.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** ` (did you mean "x"?)` when a candidate is near, else an empty string: appended to an error message. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const near = nearest(word, candidates);
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
}
