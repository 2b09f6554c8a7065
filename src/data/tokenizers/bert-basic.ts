import {
  codePoints,
  isCjkIdeograph,
  isPunctuation,
  isRemovedControl,
  isWhitespace,
  lowercaseStripAccents,
  stripAccents,
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

/** The switches of Hugging Face's BertNormalizer / BasicTokenizer. */
export interface BasicOptions {
  lowercase: boolean;
  /** Strip accents (NFD, drop non-spacing marks); undefined follows `lowercase`, as in Hugging Face. */
  stripAccents?: boolean;
  /** Make every CJK ideograph a word of its own. Default true. */
  tokenizeChineseChars?: boolean;
}

/** One source character as the normalizer leaves it: accents stripped first, then lowercased (fast BERT's order). */
function normaliser(opts: BasicOptions): (ch: string) => string {
  const strip = opts.stripAccents ?? opts.lowercase;
  if (strip && opts.lowercase) return lowercaseStripAccents;
  if (strip) return stripAccents;
  if (opts.lowercase) return (ch) => ch.toLowerCase();
  return (ch) => ch;
}

/**
 * BERT's BasicTokenizer: delete control characters, split on whitespace, optionally strip accents (NFD, drop
 * non-spacing marks — which also maps the CJK compatibility ideographs U+F900–U+FAFF to their unified forms,
 * as Hugging Face does) and lowercase, make every CJK ideograph a word, and make every punctuation character a
 * word. Deleted characters join their neighbours ("a\u200bb" is "ab"), as in BERT. A boolean `options` is
 * `lowercase` with the other switches at their defaults.
 */
export function basicTokenize(text: string, options: boolean | BasicOptions): BasicWord[] {
  const opts = typeof options === 'boolean' ? { lowercase: options } : options;
  const normalise = normaliser(opts);
  const chinese = opts.tokenizeChineseChars ?? true;
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
    } else {
      // One source character may normalise to several code points ("İ" → "i" + dot) or to none (a bare accent).
      for (const normal of normalise(ch)) {
        if ((chinese && isCjkIdeograph(normal.codePointAt(0)!)) || isPunctuation(normal)) {
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
