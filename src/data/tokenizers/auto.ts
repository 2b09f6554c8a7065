/**
 * `tokenizer.type: "auto"` (the default): chosen from the training texts when the vocabulary is built, so a
 * new user's first run is on characters for Chinese and on words with punctuation split off for English, not
 * the other way round. The choice is written into the config (and so saved with the model) and printed.
 */
import { isCjkIdeograph } from './unicode.js';

/** Texts looked at: enough to judge a language, few enough to cost nothing. */
export const AUTO_SAMPLE_TEXTS = 2000;
/** Share of CJK characters among letters above which texts are tokenised as characters. */
const CJK_SHARE = 0.5;

const LETTER = /\p{L}/u;

/** 'char' when most letters of the texts are CJK ideographs, kana or Hangul, else 'words'. */
export function chooseTokenizer(texts: Iterable<string>): { type: 'char' | 'words'; cjkShare: number } {
  let letters = 0;
  let cjk = 0;
  let n = 0;
  for (const text of texts) {
    if (n++ >= AUTO_SAMPLE_TEXTS) break;
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (isCjkIdeograph(cp) || isKanaOrHangul(cp)) {
        cjk++;
        letters++;
      } else if (LETTER.test(ch)) letters++;
    }
  }
  const cjkShare = letters === 0 ? 0 : cjk / letters;
  return { type: cjkShare > CJK_SHARE ? 'char' : 'words', cjkShare };
}

function isKanaOrHangul(cp: number): boolean {
  return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0x1100 && cp <= 0x11ff);
}

/**
 * Settles an "auto" tokenizer in place: the config's own object, so the choice is saved with the model and
 * the trainer prints it. Other types are left alone.
 */
export function settleAutoTokenizer(tokenizer: { type: string }, texts: Iterable<string>): void {
  if (tokenizer.type === 'auto') tokenizer.type = chooseTokenizer(texts).type;
}
