/**
 * Text → token ids, the rules every codec follows: the server's TextCodec and the demo page's BrowserCodec
 * (which cannot import TextCodec: it reads files and loads jieba) both call these, so they cannot drift apart.
 * Browser-safe.
 */
import { ngramIds, type NgramSpec } from './ngram-hash.js';
import { SPECIAL_TOKENS, type EncodedPair, type Vocab } from './vocab.js';

/** How a codec turns text into ids. */
export interface TextIdsSpec {
  /** The tokeniser, special tokens written in the text kept whole. */
  tokenize: (text: string) => string[];
  tokenizerType: string;
  maxLen: number;
  /** Wrap in [CLS] … [SEP] (the Transformer's input form). */
  specials: boolean;
  /** Hashed n-gram ids appended after the tokens' (a BOW with model.ngrams / char_ngrams), rows from vocab.size. */
  ngrams?: NgramSpec;
}

const SPECIALS: ReadonlySet<string> = new Set(SPECIAL_TOKENS);

/** Ids of one text; never empty (an empty text becomes [UNK]) so every sequence has a length ≥ 1. */
export function textIds(vocab: Vocab, spec: TextIdsSpec, text: string): number[] {
  // A long text is not tokenised past what max_len keeps.
  const room = spec.maxLen - (spec.specials ? 2 : 0);
  let tokens = leadingTokens(spec.tokenize, spec.tokenizerType, text, room);
  if (tokens.length === 0) tokens = [vocab.token(vocab.unkId)];
  const ids = vocab.encode(tokens, { maxLen: spec.maxLen, addCls: spec.specials, addSep: spec.specials });
  if (!spec.ngrams) return ids;
  // max_len counts tokens; a token's n-grams come on top (a bag has no positions to run out of).
  return ids.concat(ngramIds(tokens.slice(0, room), spec.ngrams, vocab.size, SPECIALS));
}

/** `[CLS] a [SEP] b [SEP]` with segment ids (Transformer pair input); an empty first text becomes [UNK]. */
export function pairIds(vocab: Vocab, spec: TextIdsSpec, a: string, b: string): EncodedPair {
  const ta = spec.tokenize(a);
  const tb = spec.tokenize(b);
  return vocab.encodePair(ta.length ? ta : [vocab.token(vocab.unkId)], tb, { maxLen: spec.maxLen });
}

/** Tokenisers whose tokens all end at an ASCII space, tab or newline (no token or special token spans one;
 *  "words" splits whitespace runs further, never across them). */
const CUT_AT_SPACE: ReadonlySet<string> = new Set(['char', 'whitespace', 'words']);
/** First guess at how many characters hold a token (English words with their space; CJK needs fewer). */
const CHARS_PER_TOKEN = 8;
const ASCII_SPACE = /[ \t\n\r]/g;

/** The index just past the first ASCII space, tab or newline at or after `from`, or -1. */
function afterSpace(text: string, from: number): number {
  ASCII_SPACE.lastIndex = from;
  const match = ASCII_SPACE.exec(text);
  return match ? match.index + 1 : -1;
}

/**
 * `tokenize(text)`'s first `count` tokens or more (all of them when it has fewer). The text is cut just after
 * an ASCII space, tab or newline: the char and whitespace tokenisers end every token there and no special
 * token spans it, so the tokens of the part before the cut are exactly the first tokens of the whole text.
 * Other tokenisers (jieba's segmentation, wordpiece) read the whole text.
 */
function leadingTokens(
  tokenize: (text: string) => string[],
  tokenizerType: string,
  text: string,
  count: number,
): string[] {
  if (count >= 1 && CUT_AT_SPACE.has(tokenizerType)) {
    for (let from = count * CHARS_PER_TOKEN; from < text.length; from *= 2) {
      const cut = afterSpace(text, from);
      if (cut < 0) break;
      const tokens = tokenize(text.slice(0, cut));
      if (tokens.length >= count || cut === text.length) return tokens;
    }
  }
  return tokenize(text);
}
