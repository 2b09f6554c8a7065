import { WordTokenizer } from './word-tokenizer.js';

/** For text that is already segmented: tokens are the whitespace-separated pieces. */
export class WhitespaceTokenizer extends WordTokenizer {
  readonly kind = 'whitespace' as const;

  protected spans(text: string): Array<[number, number]> {
    // \s in a /u regex covers the Unicode spaces, including the ideographic space U+3000.
    return [...text.matchAll(/\S+/gu)].map((match) => [match.index, match.index + match[0].length]);
  }
}
