/**
 * Character classes shared by the tokenisers. The definitions follow BERT's tokenization.py so that a
 * vocab.txt from a BERT checkpoint sees the same words it was built from.
 */

/** CJK Unified Ideographs blocks, exactly BERT's `_is_chinese_char` (Hangul and kana are not in it). */
export function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const SPACE_SEPARATOR = /^[\p{Zs}\p{Zl}\p{Zp}]$/u;
const OTHER_CATEGORY = /^\p{C}$/u;
const PUNCTUATION_CATEGORY = /^\p{P}$/u;
const WORD_CHAR = /^[\p{L}\p{N}\p{M}]$/u;
const NONSPACING_MARK = /\p{Mn}/gu;
const MARK = /^\p{M}$/u;

/** Whitespace separates words: tab, newline, carriage return and the Unicode space separators. */
export function isWhitespace(ch: string): boolean {
  if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') return true;
  return ch.charCodeAt(0) >= 0x80 && SPACE_SEPARATOR.test(ch);
}

/**
 * Characters BERT deletes before tokenising: NUL, U+FFFD and every "C*" category character (controls,
 * format characters such as zero-width spaces, lone surrogates, unassigned code points), except the
 * tab/newline/return that count as whitespace.
 */
export function isRemovedControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  const cp = ch.codePointAt(0)!;
  // ASCII fast path: the C0 controls and DEL are the only "C*" characters below 0x80.
  if (cp < 0x80) return cp < 0x20 || cp === 0x7f;
  return cp === 0xfffd || OTHER_CATEGORY.test(ch);
}

/** BERT's punctuation: every ASCII non-alphanumeric printable character ("$", "+", "^" too) plus Unicode P*. */
export function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if (
    (cp >= 33 && cp <= 47) ||
    (cp >= 58 && cp <= 64) ||
    (cp >= 91 && cp <= 96) ||
    (cp >= 123 && cp <= 126)
  ) {
    return true;
  }
  return cp >= 0x80 && PUNCTUATION_CATEGORY.test(ch);
}

/** Letters, digits and combining marks: what a non-CJK word is made of. */
export function isWordChar(ch: string): boolean {
  const cp = ch.charCodeAt(0);
  if (cp < 0x80)
    return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return WORD_CHAR.test(ch);
}

/** Combining marks (accents, variation selectors) belong to the character before them. */
export function isMark(ch: string): boolean {
  return ch.charCodeAt(0) >= 0x300 && MARK.test(ch);
}

/** Lowercase, decompose (NFD) and drop non-spacing marks, so "Héllo" becomes "hello" as in uncased BERT. */
export function lowercaseStripAccents(s: string): string {
  if (s.length === 1 && s.charCodeAt(0) < 0x80) return s.toLowerCase();
  return s.toLowerCase().normalize('NFD').replace(NONSPACING_MARK, '');
}

/** Decompose (NFD) and drop non-spacing marks without changing case (a cased BERT with strip_accents). */
export function stripAccents(s: string): string {
  if (s.length === 1 && s.charCodeAt(0) < 0x80) return s;
  return s.normalize('NFD').replace(NONSPACING_MARK, '');
}

/** One code point of a string with its [start, end) position in UTF-16 code units (what String.slice uses). */
export interface PositionedChar {
  ch: string;
  start: number;
  end: number;
}

/** Iterate a string by code point (so astral ideographs stay whole), with positions. */
export function* codePoints(text: string): Generator<PositionedChar> {
  let i = 0;
  for (const ch of text) {
    yield { ch, start: i, end: i + ch.length };
    i += ch.length;
  }
}
