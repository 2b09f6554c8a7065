import { UserError } from '../../util/errors.js';
import { Vocab } from '../vocab.js';
import { CharTokenizer } from './char.js';
import { JiebaTokenizer } from './jieba.js';
import { WhitespaceTokenizer } from './whitespace.js';
import { WordPieceTokenizer, wordPieceOptions } from './wordpiece.js';
import { WordsTokenizer } from './words.js';

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

/** Build the tokenizer a config names. */
export function createTokenizer(spec: TokenizerSpec): OffsetTokenizer {
  const lowercase = spec.lowercase ?? true;
  switch (spec.type) {
    case 'char':
      return new CharTokenizer({ lowercase });
    case 'jieba':
      return new JiebaTokenizer({ lowercase });
    case 'whitespace':
      return new WhitespaceTokenizer({ lowercase });
    case 'words':
      return new WordsTokenizer({ lowercase });
    case 'auto':
      throw new UserError('tokenizer: "auto" is settled from the training data; train the model first');
    case 'wordpiece':
      if (spec.vocab === undefined || spec.vocab === '') {
        throw new UserError('tokenizer: type "wordpiece" needs "vocab": the path of a vocab.txt');
      }
      return new WordPieceTokenizer(Vocab.load(spec.vocab), wordPieceOptions(spec));
    default:
      throw new UserError(
        `tokenizer: unknown type "${spec.type}"; expected one of ${TOKENIZER_KINDS.map((k) => `"${k}"`).join(', ')}`,
      );
  }
}
