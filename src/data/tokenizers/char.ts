import type { OffsetTokenizer, TokenOffsets } from './tokenizer.js';
import { codePoints, isCjkIdeograph, isMark, isRemovedControl, isWhitespace, isWordChar } from './unicode.js';

export interface CharTokenizerOptions {
  lowercase: boolean;
}

/**
 * Character tokens for Chinese: every CJK ideograph is a token, a run of other letters/digits is one
 * word ("NLP", "2024"), every other visible character (punctuation, symbols, emoji) is a token of its
 * own, and whitespace only separates, so pre-segmented text ("房间 太 小 。") tokenises the same.
 */
export class CharTokenizer implements OffsetTokenizer {
  readonly kind = 'char' as const;
  private readonly lowercase: boolean;

  constructor(options: CharTokenizerOptions) {
    this.lowercase = options.lowercase;
  }

  tokenize(text: string): string[] {
    return this.tokenizeWithOffsets(text).tokens;
  }

  tokenizeWithOffsets(text: string): TokenOffsets {
    const tokens: string[] = [];
    const offsets: Array<[number, number]> = [];
    let wordStart = -1;
    let wordEnd = -1;
    const endWord = (): void => {
      if (wordStart < 0) return;
      const word = text.slice(wordStart, wordEnd);
      tokens.push(this.lowercase ? word.toLowerCase() : word);
      offsets.push([wordStart, wordEnd]);
      wordStart = -1;
    };
    const single = (token: string, start: number, end: number): void => {
      endWord();
      tokens.push(token);
      offsets.push([start, end]);
    };
    for (const { ch, start, end } of codePoints(text)) {
      const last = offsets.length - 1;
      if (isCjkIdeograph(ch.codePointAt(0)!)) {
        single(ch, start, end);
      } else if (isWhitespace(ch) || isRemovedControl(ch)) {
        endWord();
      } else if (isMark(ch) && wordStart < 0 && last >= 0 && offsets[last][1] === start) {
        // A variation selector or accent after an emoji/ideograph stays with it instead of becoming a token.
        offsets[last][1] = end;
        tokens[last] += ch;
      } else if (isWordChar(ch)) {
        if (wordStart < 0) wordStart = start;
        wordEnd = end;
      } else {
        single(this.lowercase ? ch.toLowerCase() : ch, start, end);
      }
    }
    endWord();
    return { tokens, offsets, wordIndex: tokens.map((_, i) => i) };
  }
}
