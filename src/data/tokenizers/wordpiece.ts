import { SPECIAL_TOKENS, UNK, type Vocab } from '../vocab.js';
import { basicTokenize, type BasicOptions, type BasicWord } from './bert-basic.js';
import type { OffsetTokenizer, TokenOffsets } from './tokenizer.js';

export interface WordPieceTokenizerOptions extends BasicOptions {
  /** Longer words become a single [UNK], as in BERT. Default 100. */
  maxInputCharsPerWord?: number;
  /** Special tokens beyond [PAD] [UNK] [CLS] [SEP] [MASK] that the checkpoint declares. */
  specials?: readonly string[];
}

/** dataset.tokenizer's WordPiece switches, as the config (and a saved model) spells them. */
export interface WordPieceSwitches {
  lowercase?: boolean;
  strip_accents?: boolean;
  tokenize_chinese_chars?: boolean;
  special_tokens?: string[];
}

/** The tokenizer options a config's switches set; lowercase defaults to true. */
export function wordPieceOptions(spec: WordPieceSwitches): WordPieceTokenizerOptions {
  return {
    lowercase: spec.lowercase ?? true,
    stripAccents: spec.strip_accents,
    tokenizeChineseChars: spec.tokenize_chinese_chars,
    specials: spec.special_tokens,
  };
}

/**
 * BERT tokenisation: the basic tokenizer's words are cut into vocabulary pieces greedily, longest
 * first, with "##" marking a piece that continues a word. A word that cannot be covered is one [UNK].
 * Special tokens of the vocabulary written in the text (`[MASK]`, `[SEP]`) stay single tokens, matched
 * exactly before any normalisation, as Hugging Face's tokenizers match them.
 */
export class WordPieceTokenizer implements OffsetTokenizer {
  readonly kind = 'wordpiece' as const;
  private readonly basic: BasicOptions;
  private readonly maxInputCharsPerWord: number;
  private readonly specialPattern: RegExp | undefined;

  constructor(
    readonly vocab: Vocab,
    options: WordPieceTokenizerOptions,
  ) {
    const { maxInputCharsPerWord, specials, ...basic } = options;
    this.basic = basic;
    this.maxInputCharsPerWord = maxInputCharsPerWord ?? 100;
    const known = [...new Set([...SPECIAL_TOKENS, ...(specials ?? [])])].filter(
      (t) => t !== '' && vocab.has(t),
    );
    // Longest first, so a special that contains another wins.
    known.sort((a, b) => b.length - a.length);
    this.specialPattern = known.length
      ? new RegExp(known.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
      : undefined;
  }

  tokenize(text: string): string[] {
    return this.tokenizeWithOffsets(text).tokens;
  }

  tokenizeWithOffsets(text: string): TokenOffsets {
    const result: TokenOffsets = { tokens: [], offsets: [], wordIndex: [] };
    let words = 0;
    const plain = (from: number, to: number): void => {
      for (const word of basicTokenize(text.slice(from, to), this.basic)) {
        for (const piece of this.pieces(word)) {
          result.tokens.push(piece.token);
          result.offsets.push([from + word.starts[piece.from], from + word.ends[piece.to - 1]]);
          result.wordIndex.push(words);
        }
        words++;
      }
    };
    let done = 0;
    if (this.specialPattern) {
      for (const m of text.matchAll(this.specialPattern)) {
        plain(done, m.index);
        result.tokens.push(m[0]);
        result.offsets.push([m.index, m.index + m[0].length]);
        result.wordIndex.push(words++);
        done = m.index + m[0].length;
      }
    }
    plain(done, text.length);
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
