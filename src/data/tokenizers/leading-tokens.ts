/**
 * The first `count` tokens of a text without tokenising the rest of a long one (an email of thousands of
 * words for a max_len of 256). Browser-safe: TextCodec and the demo page's codec share it, so both cut the
 * same way.
 */

/** Tokenisers whose tokens all end at an ASCII space, tab or newline (no token or special token spans one). */
const CUT_AT_SPACE: ReadonlySet<string> = new Set(['char', 'whitespace']);
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
export function leadingTokens(
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
