import type { OffsetTokenizer, TokenOffsets } from './tokenizer.js';

export interface WhitespaceTokenizerOptions {
  lowercase: boolean;
}

/** For text that is already segmented: tokens are the whitespace-separated pieces. */
export class WhitespaceTokenizer implements OffsetTokenizer {
  readonly kind = 'whitespace' as const;
  private readonly lowercase: boolean;

  constructor(options: WhitespaceTokenizerOptions) {
    this.lowercase = options.lowercase;
  }

  tokenize(text: string): string[] {
    return this.tokenizeWithOffsets(text).tokens;
  }

  tokenizeWithOffsets(text: string): TokenOffsets {
    const tokens: string[] = [];
    const offsets: Array<[number, number]> = [];
    // \s in a /u regex covers the Unicode spaces, including the ideographic space U+3000.
    for (const match of text.matchAll(/\S+/gu)) {
      const start = match.index;
      tokens.push(this.lowercase ? match[0].toLowerCase() : match[0]);
      offsets.push([start, start + match[0].length]);
    }
    return { tokens, offsets, wordIndex: tokens.map((_, i) => i) };
  }
}
