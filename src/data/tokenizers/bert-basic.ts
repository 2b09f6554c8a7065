import {
  codePoints,
  isCjkIdeograph,
  isPunctuation,
  isRemovedControl,
  isWhitespace,
  lowercaseStripAccents,
} from './unicode.js';

/**
 * One word of BERT's BasicTokenizer, kept as normalised code points with, for each, the [start, end)
 * of the original character it came from (lowercasing and accent stripping can change lengths).
 */
export interface BasicWord {
  chars: string[];
  starts: number[];
  ends: number[];
}

/**
 * BERT's BasicTokenizer: delete control characters, make every CJK ideograph a word, split on
 * whitespace, optionally lowercase and strip accents (NFD, drop non-spacing marks), and make every
 * punctuation character a word. Deleted characters join their neighbours ("a\u200bb" is "ab"), as in BERT.
 */
export function basicTokenize(text: string, lowercase: boolean): BasicWord[] {
  const words: BasicWord[] = [];
  let current: BasicWord | undefined;
  const endWord = (): void => {
    if (current !== undefined) words.push(current);
    current = undefined;
  };
  const single = (ch: string, start: number, end: number): void => {
    endWord();
    words.push({ chars: [ch], starts: [start], ends: [end] });
  };
  for (const { ch, start, end } of codePoints(text)) {
    if (isRemovedControl(ch)) continue;
    if (isWhitespace(ch)) {
      endWord();
    } else if (isCjkIdeograph(ch.codePointAt(0)!)) {
      single(ch, start, end);
    } else {
      // One source character may normalise to several code points ("İ" → "i" + dot) or to none (a bare accent).
      for (const normal of lowercase ? lowercaseStripAccents(ch) : ch) {
        if (isPunctuation(normal)) {
          single(normal, start, end);
        } else {
          current ??= { chars: [], starts: [], ends: [] };
          current.chars.push(normal);
          current.starts.push(start);
          current.ends.push(end);
        }
      }
    }
  }
  endWord();
  return words;
}
