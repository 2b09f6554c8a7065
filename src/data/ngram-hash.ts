/**
 * fastText-style hashed n-gram features for bag-of-words models: besides its tokens' ids, a text gets one id
 * per word n-gram (2 … `wordNgrams` tokens) and, optionally, per character n-gram of each token (fastText's
 * subwords: the token wrapped in "<" ">", `charNgrams[0]` … `charNgrams[1]` code points). An n-gram's id is
 * `base + FNV-1a-32(UTF-8 of its key) mod buckets`, where a word n-gram's key is its tokens joined by one
 * space (U+0020) and a character n-gram's key is its characters. There is no vocabulary of n-grams, so unseen
 * ones still land in a trained row, and the table's size is fixed in advance.
 *
 * Written here (not a library) because the same few lines must run, bit for bit, in training, the exported
 * model's pre-processing on the server and the browser page: this file is browser-safe and all three import it.
 */

/** The n-gram features of a model (absent: tokens only). */
export interface NgramSpec {
  /** Longest word n-gram, 1–3 (1: none). */
  wordNgrams: number;
  /** Rows shared by all n-grams. */
  buckets: number;
  /** Shortest and longest character n-gram per token, in code points (absent: none). */
  charNgrams?: readonly [number, number];
}

/** The model-config fields n-grams come from (a structural type: the data layer does not import config). */
export interface NgramModelFields {
  net: string;
  ngrams?: number;
  buckets?: number;
  char_ngrams?: readonly number[];
}

/** A BOW model's n-gram spec, or undefined when it uses tokens only (or is not a BOW). */
export function ngramSpecOf(model: NgramModelFields): NgramSpec | undefined {
  const wordNgrams = model.ngrams ?? 1;
  const chars = model.char_ngrams;
  if (model.net !== 'bow' || (wordNgrams <= 1 && !chars)) return undefined;
  return { wordNgrams, buckets: model.buckets ?? 0, charNgrams: chars ? [chars[0], chars[1]] : undefined };
}

const utf8 = new TextEncoder();

/** FNV-1a, 32 bits (offset basis 2166136261, prime 16777619), over the UTF-8 bytes of `text`; unsigned. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The n-gram ids of a token sequence, word n-grams first (by length, then position), then each token's
 * character n-grams. Tokens in `skipChars` (special tokens) get no character n-grams.
 */
export function ngramIds(
  tokens: readonly string[],
  spec: NgramSpec,
  base: number,
  skipChars: ReadonlySet<string> = new Set(),
): number[] {
  const out: number[] = [];
  const id = (key: string) => base + (fnv1a32(key) % spec.buckets);
  for (let n = 2; n <= spec.wordNgrams; n++) {
    for (let i = 0; i + n <= tokens.length; i++) out.push(id(tokens.slice(i, i + n).join(' ')));
  }
  if (spec.charNgrams) {
    const [min, max] = spec.charNgrams;
    for (const token of tokens) {
      if (skipChars.has(token)) continue;
      const chars = ['<', ...token, '>'];
      for (let i = 0; i < chars.length; i++) {
        for (let n = min; n <= max && i + n <= chars.length; n++) {
          if (n === 1 && (i === 0 || i === chars.length - 1)) continue; // a lone "<" or ">" says nothing
          out.push(id(chars.slice(i, i + n).join('')));
        }
      }
    }
  }
  return out;
}
