/**
 * Special tokens written literally in text (`[UNK]` from augmentation, `[MASK]`) stay single tokens
 * whatever the tokeniser. Browser-safe: the demo page's codec shares it with TextCodec.
 */
import { SPECIAL_TOKENS } from '../vocab.js';
import type { Tokenizer } from './tokenizer.js';

const SPECIAL_PATTERN = new RegExp(`(${SPECIAL_TOKENS.map((t) => t.replace(/[[\]]/g, '\\$&')).join('|')})`);

/** `tokenizer`'s tokens of `text`, with each special token in it kept whole. */
export function tokenizeKeepingSpecials(tokenizer: Tokenizer, text: string): string[] {
  if (!text.includes('[')) return tokenizer.tokenize(text);
  const out: string[] = [];
  for (const part of text.split(SPECIAL_PATTERN)) {
    if (SPECIAL_TOKENS.includes(part)) out.push(part);
    else if (part) out.push(...tokenizer.tokenize(part));
  }
  return out;
}
