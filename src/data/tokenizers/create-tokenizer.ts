/**
 * The tokenizer factory: a config's tokenizer spec → an implementation. Apart from the interfaces in
 * tokenizer.ts so the implementations can import those without a circle.
 */
import { UserError } from '../../util/errors.js';
import { Vocab } from '../vocab.js';
import { CharTokenizer } from './char.js';
import { JiebaTokenizer } from './jieba.js';
import { TOKENIZER_KINDS, type OffsetTokenizer, type TokenizerSpec } from './tokenizer.js';
import { WhitespaceTokenizer } from './whitespace.js';
import { WordPieceTokenizer, wordPieceOptions } from './wordpiece.js';
import { WordsTokenizer } from './words.js';

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
