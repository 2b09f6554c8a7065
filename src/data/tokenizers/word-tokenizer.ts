import type { OffsetTokenizer, TokenizerKind, TokenOffsets } from './tokenizer.js';

export interface WordTokenizerOptions {
  lowercase: boolean;
}

/**
 * A tokeniser whose tokens are slices of the text, each a word of its own (every kind but wordpiece,
 * which cuts words into pieces). A kind only says where its tokens stand; the text of each token and
 * its lowercasing are the same for all.
 */
export abstract class WordTokenizer implements OffsetTokenizer {
  abstract readonly kind: TokenizerKind;
  private readonly lowercase: boolean;

  constructor(options: WordTokenizerOptions) {
    this.lowercase = options.lowercase;
  }

  /** Each token's [start, end) in the text, in order, in UTF-16 code units. */
  protected abstract spans(text: string): Array<[number, number]>;

  tokenize(text: string): string[] {
    return this.spans(text).map(([start, end]) => this.token(text, start, end));
  }

  tokenizeWithOffsets(text: string): TokenOffsets {
    const offsets = this.spans(text);
    const tokens = offsets.map(([start, end]) => this.token(text, start, end));
    return { tokens, offsets, wordIndex: tokens.map((_, i) => i) };
  }

  private token(text: string, start: number, end: number): string {
    const token = text.slice(start, end);
    return this.lowercase ? token.toLowerCase() : token;
  }
}
