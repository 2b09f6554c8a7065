import { UNK, type Vocab } from '../vocab.js';
import { basicTokenize, type BasicWord } from './bert-basic.js';
import type { OffsetTokenizer, TokenOffsets } from './tokenizer.js';

export interface WordPieceTokenizerOptions {
  /** Lowercase and strip accents, as for an uncased (or Chinese) BERT vocab. */
  lowercase: boolean;
  /** Longer words become a single [UNK], as in BERT. Default 100. */
  maxInputCharsPerWord?: number;
}

/**
 * BERT tokenisation: the basic tokenizer's words are cut into vocabulary pieces greedily, longest
 * first, with "##" marking a piece that continues a word. A word that cannot be covered is one [UNK].
 */
export class WordPieceTokenizer implements OffsetTokenizer {
  readonly kind = 'wordpiece' as const;
  private readonly lowercase: boolean;
  private readonly maxInputCharsPerWord: number;

  constructor(
    readonly vocab: Vocab,
    options: WordPieceTokenizerOptions,
  ) {
    this.lowercase = options.lowercase;
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
  }

  tokenize(text: string): string[] {
    return this.tokenizeWithOffsets(text).tokens;
  }

  tokenizeWithOffsets(text: string): TokenOffsets {
    const result: TokenOffsets = { tokens: [], offsets: [], wordIndex: [] };
    basicTokenize(text, this.lowercase).forEach((word, index) => {
      for (const piece of this.pieces(word)) {
        result.tokens.push(piece.token);
        result.offsets.push([word.starts[piece.from], word.ends[piece.to - 1]]);
        result.wordIndex.push(index);
      }
    });
    return result;
  }

  /** The pieces of one word, each with the range [from, to) of the word's code points it covers. */
  private pieces(word: BasicWord): Array<{ token: string; from: number; to: number }> {
    const { chars } = word;
    const wholeWordUnknown = [{ token: UNK, from: 0, to: chars.length }];
    if (chars.length > this.maxInputCharsPerWord) return wholeWordUnknown;
    const pieces: Array<{ token: string; from: number; to: number }> = [];
    let from = 0;
    while (from < chars.length) {
      let found: string | undefined;
      let to = chars.length;
      for (; to > from; to--) {
        const candidate = (from > 0 ? '##' : '') + chars.slice(from, to).join('');
        if (this.vocab.has(candidate)) {
          found = candidate;
          break;
        }
      }
      if (found === undefined) return wholeWordUnknown;
      pieces.push({ token: found, from, to });
      from = to;
    }
    return pieces;
  }
}
