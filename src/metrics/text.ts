/**
 * Text helpers shared by the answer-span and ROUGE scorers: detecting Chinese text and splitting it
 * into per-character tokens, the way Chinese reading-comprehension and summarisation scorers do.
 */

const HAN = /\p{Script=Han}/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** True if the text has at least one Chinese (Han) character. */
export function containsHan(text: string): boolean {
  return HAN.test(text);
}

/**
 * Lowercases, then makes every Han character its own token and every run of other letters/digits one
 * token (so "iPhone手机" → ["iphone", "手", "机"]); whitespace, punctuation and symbols (ASCII or
 * full-width) separate tokens and are dropped.
 */
export function hanCharTokens(text: string): string[] {
  const tokens: string[] = [];
  let word = '';
  for (const ch of text.toLowerCase()) {
    if (HAN.test(ch)) {
      if (word) tokens.push(word);
      word = '';
      tokens.push(ch);
    } else if (LETTER_OR_DIGIT.test(ch)) {
      word += ch;
    } else {
      if (word) tokens.push(word);
      word = '';
    }
  }
  if (word) tokens.push(word);
  return tokens;
}

/** Size of the multiset intersection of two token lists (Python's `Counter(a) & Counter(b)`). */
export function overlapCount(a: readonly string[], b: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const t of a) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of b) {
    const n = counts.get(t) ?? 0;
    if (n > 0) {
      common++;
      counts.set(t, n - 1);
    }
  }
  return common;
}
