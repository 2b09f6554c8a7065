/**
 * sacreBLEU's tokenizers, reproduced so BLEU scores are comparable with published sacreBLEU numbers:
 * '13a' (mteval-v13a, sacreBLEU's default), 'zh' (each Chinese character its own token, the rest as
 * 13a) and 'none' (split on whitespace only).
 */

export type BleuTokenizer = '13a' | 'zh' | 'none';

// Python's str.split()/strip() whitespace, which differs slightly from JavaScript's \s
// (it includes \x1c-\x1f and \x85 and excludes \ufeff).
const PY_SPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACES = new RegExp(`[${PY_SPACE}]+`, 'u');
const PY_TRAILING_SPACE = new RegExp(`[${PY_SPACE}]+$`, 'u');
const PY_LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`, 'u');

/** Python's `' '.join(s.split())`. */
function squeezeSpaces(s: string): string {
  return s
    .split(PY_SPACES)
    .filter((t) => t.length > 0)
    .join(' ');
}

/** Python's str.rstrip(). */
export function pyRstrip(s: string): string {
  return s.replace(PY_TRAILING_SPACE, '');
}

/** Python's str.strip(). */
function pyStrip(s: string): string {
  return pyRstrip(s).replace(PY_LEADING_SPACE, '');
}

/** sacreBLEU's TokenizerRegexp, the language-dependent part of mteval-v13a. */
function regexpTokenize(line: string): string {
  return squeezeSpaces(
    line
      // Split off ASCII symbols: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
      .replace(/([{-~\[-` -&(-+:-@\/])/gu, ' $1 ')
      // Period and comma unless preceded by a digit...
      .replace(/([^0-9])([.,])/gu, '$1 $2 ')
      // ...and unless followed by a digit.
      .replace(/([.,])([^0-9])/gu, ' $1 $2')
      // A dash after a digit.
      .replace(/([0-9])(-)/gu, '$1 $2 '),
  );
}

/** mteval-v13a: unescape the few XML entities mteval knows, then split punctuation off. */
function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) {
    s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  return regexpTokenize(` ${s} `);
}

/**
 * The code point ranges sacreBLEU's 'zh' tokenizer treats as Chinese. Two entries of its table are
 * written as 5-hex-digit escapes ('\u20000', '\u2f800' ...), which Python reads as a 4-digit escape
 * plus a digit; compared as strings they effectively cover U+2001–U+2A6D (general punctuation such
 * as “ ” — …, arrows, maths symbols) and U+2F81–U+2FA1. We reproduce that actual behaviour, since
 * it is what every published sacreBLEU 'zh' score used.
 */
const SACREBLEU_ZH_RANGES: readonly [number, number][] = [
  [0x3400, 0x4db5],
  [0x4e00, 0x9fa5],
  [0x9fa6, 0x9fbb],
  [0xf900, 0xfa2d],
  [0xfa30, 0xfa6a],
  [0xfa70, 0xfad9],
  [0x2001, 0x2a6d], // written '\u20000'..'\u2a6d6'
  [0x2f81, 0x2fa1], // written '\u2f800'..'\u2fa1d'
  [0xff00, 0xffef],
  [0x2e80, 0x2eff],
  [0x3000, 0x303f],
  [0x31c0, 0x31ef],
  [0x2f00, 0x2fdf],
  [0x2ff0, 0x2fff],
  [0x3100, 0x312f],
  [0x31a0, 0x31bf],
  [0xfe10, 0xfe1f],
  [0xfe30, 0xfe4f],
  [0x2600, 0x26ff],
  [0x2700, 0x27bf],
  [0x3200, 0x32ff],
  [0x3300, 0x33ff],
];

function isSacrebleuChinese(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  return SACREBLEU_ZH_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi);
}

/** sacreBLEU 'zh': surround each Chinese character with spaces, then the 13a regular expressions. */
function tokenizeZh(line: string): string {
  let spaced = '';
  for (const ch of pyStrip(line)) spaced += isSacrebleuChinese(ch) ? ` ${ch} ` : ch;
  return regexpTokenize(spaced);
}

/** Tokenises one segment and returns its tokens. */
export function bleuTokens(line: string, tokenizer: BleuTokenizer): string[] {
  const text =
    tokenizer === '13a' ? tokenize13a(line) : tokenizer === 'zh' ? tokenizeZh(line) : squeezeSpaces(line);
  return text.length === 0 ? [] : text.split(' ');
}
