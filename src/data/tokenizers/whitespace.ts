import { WordTokenizer } from './word-tokenizer.js';

/** For text that is already segmented: tokens are the whitespace-separated pieces. */
export class WhitespaceTokenizer extends WordTokenizer {
  readonly kind = 'whitespace' as const;

  /**
   * The runs of non-space characters, as /\S+/gu finds them. An index loop over code units instead of
   * matchAll: a whole email is tokenised per prediction, and the match objects made English BOW
   * predictions spend about half their time here. Every space is a single BMP code unit, so surrogate
   * pairs (and lone surrogates) simply stay inside their runs.
   */
  protected spans(text: string): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    let start = -1;
    for (let i = 0; i < text.length; i++) {
      if (!isSpace(text.charCodeAt(i))) {
        if (start < 0) start = i;
      } else if (start >= 0) {
        spans.push([start, i]);
        start = -1;
      }
    }
    if (start >= 0) spans.push([start, text.length]);
    return spans;
  }
}

/** JavaScript's \s: tab, line feed, vertical tab, form feed, return, space, the Unicode Zs spaces, LS, PS, BOM. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}
