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

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SPACE = 0x20;

/** FNV-1a, 32 bits (offset basis 2166136261, prime 16777619), over the UTF-8 bytes of `text`; unsigned. */
export function fnv1a32(text: string): number {
  return fnvFeed(FNV_OFFSET, text) >>> 0;
}

/**
 * The FNV-1a state after `text`'s UTF-8 bytes, from state `h` (FNV-1a is a running hash: the state after
 * "new" continued with " york" is the hash of "new york"). The bytes are computed from the UTF-16 code
 * units as TextEncoder does (a lone surrogate is U+FFFD) but without allocating them: at batch 1 hashing a
 * text's n-grams costs as much as the model.
 */
function fnvFeed(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
    } else {
      if (c < 0x10000) {
        h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
      } else {
        h = Math.imul(h ^ (0xf0 | (c >> 18)), FNV_PRIME);
        h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), FNV_PRIME);
      }
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  return h;
}

/**
 * The n-gram ids of a token sequence, word n-grams first (by length, then position), then each token's
 * character n-grams. Tokens in `skipChars` (special tokens) get no character n-grams. Each key is hashed by
 * continuing the hash of its prefix, so no key string is built.
 */
export function ngramIds(
  tokens: readonly string[],
  spec: NgramSpec,
  base: number,
  skipChars: ReadonlySet<string> = new Set(),
): number[] {
  const out: number[] = [];
  const id = (h: number) => base + ((h >>> 0) % spec.buckets);
  // state[i]: the hash of the n tokens from i, for the n of the current round.
  const state = spec.wordNgrams >= 2 ? tokens.map((t) => fnvFeed(FNV_OFFSET, t)) : [];
  for (let n = 2; n <= spec.wordNgrams; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      state[i] = fnvFeed(Math.imul(state[i] ^ SPACE, FNV_PRIME), tokens[i + n - 1]);
      out.push(id(state[i]));
    }
  }
  if (spec.charNgrams) {
    const [min, max] = spec.charNgrams;
    for (const token of tokens) {
      if (skipChars.has(token)) continue;
      const chars = ['<', ...token, '>'];
      for (let i = 0; i < chars.length; i++) {
        let h = FNV_OFFSET;
        for (let n = 1; n <= max && i + n <= chars.length; n++) {
          h = fnvFeed(h, chars[i + n - 1]);
          if (n < min) continue;
          if (n === 1 && (i === 0 || i === chars.length - 1)) continue; // a lone "<" or ">" says nothing
          out.push(id(h));
        }
      }
    }
  }
  return out;
}
