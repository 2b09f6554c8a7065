/**
 * What a tokenizer is: the interfaces every implementation (char, jieba, whitespace, words, wordpiece)
 * meets and the spec a config names one by. The factory is create-tokenizer.ts.
 */
export type TokenizerKind = 'char' | 'jieba' | 'whitespace' | 'words' | 'wordpiece';
export const TOKENIZER_KINDS: readonly TokenizerKind[] = [
  'char',
  'jieba',
  'whitespace',
  'words',
  'wordpiece',
];

/** Turns raw text into tokens; the vocabulary maps them to ids separately. */
export interface Tokenizer {
  readonly kind: TokenizerKind;
  tokenize(text: string): string[];
}

/**
 * Tokens with where they came from. `offsets[i]` is token i's [start, end) in the original text, in
 * UTF-16 code units so `text.slice(start, end)` is the source of the token (before lowercasing and
 * without the "##" continuation prefix). `wordIndex[i]` is the word the token belongs to: for wordpiece
 * the BERT basic-tokenizer word a piece was cut from, for the other tokenisers each token is its own word.
 */
export interface TokenOffsets {
  tokens: string[];
  offsets: Array<[number, number]>;
  wordIndex: number[];
}

/** Every tokeniser here can also report offsets (span extraction, label alignment). */
export interface OffsetTokenizer extends Tokenizer {
  tokenizeWithOffsets(text: string): TokenOffsets;
}

export interface TokenizerSpec {
  type: string;
  /** vocab.txt path; required by wordpiece, left to the caller (a pretrained vocabulary) for the others. */
  vocab?: string;
  /** Lowercase Latin text (wordpiece also strips accents). Default true. */
  lowercase?: boolean;
  /** wordpiece: strip accents; undefined follows `lowercase` (Hugging Face's strip_accents). */
  strip_accents?: boolean;
  /** wordpiece: every CJK ideograph is a word (Hugging Face's tokenize_chinese_chars). Default true. */
  tokenize_chinese_chars?: boolean;
  /** wordpiece: special tokens beyond [PAD] [UNK] [CLS] [SEP] [MASK] kept whole when written in text. */
  special_tokens?: string[];
}
