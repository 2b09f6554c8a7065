/**
 * English (and any space-separated language) words with punctuation split off: BERT's basic tokenisation
 * (bert-basic.ts) without WordPiece, so "reasons." is "reasons" "." and a CJK ideograph is a word of its own.
 * Lowercasing also strips accents, as BERT's uncased models do. Browser-safe.
 */
import { basicTokenize } from './bert-basic.js';
import type { OffsetTokenizer, TokenOffsets } from './tokenizer.js';

export class WordsTokenizer implements OffsetTokenizer {
  readonly kind = 'words' as const;
  private readonly lowercase: boolean;

  constructor(options: { lowercase: boolean }) {
    this.lowercase = options.lowercase;
  }

  tokenize(text: string): string[] {
    return basicTokenize(text, this.lowercase).map((w) => w.chars.join(''));
  }

  tokenizeWithOffsets(text: string): TokenOffsets {
    const words = basicTokenize(text, this.lowercase);
    return {
      tokens: words.map((w) => w.chars.join('')),
      offsets: words.map((w) => [w.starts[0], w.ends[w.ends.length - 1]]),
      wordIndex: words.map((_, i) => i),
    };
  }
}
