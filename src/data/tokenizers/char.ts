import { isCjkIdeograph, isMark, isRemovedControl, isWhitespace, isWordChar } from './unicode.js';
import { WordTokenizer } from './word-tokenizer.js';

/**
 * Character tokens for Chinese: every CJK ideograph is a token, a run of other letters/digits is one
 * word ("NLP", "2024"), every other visible character (punctuation, symbols, emoji) is a token of its
 * own, and whitespace only separates, so pre-segmented text ("房间 太 小 。") tokenises the same.
 */
export class CharTokenizer extends WordTokenizer {
  readonly kind = 'char' as const;

  protected spans(text: string): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    let wordStart = -1;
    let wordEnd = -1;
    const endWord = (): void => {
      if (wordStart < 0) return;
      spans.push([wordStart, wordEnd]);
      wordStart = -1;
    };
    const single = (start: number, end: number): void => {
      endWord();
      spans.push([start, end]);
    };
    // An index loop rather than codePoints(): this runs for every character a server encodes, and a
    // generator yielding one object per character made poems 1.3× slower to tokenise (19.7 → 15.1 µs).
    for (let start = 0; start < text.length;) {
      const cp = text.codePointAt(start)!;
      const end = start + (cp > 0xffff ? 2 : 1);
      const last = spans.length - 1;
      if (isCjkIdeograph(cp)) {
        single(start, end);
        start = end;
        continue;
      }
      const ch = text.slice(start, end);
      if (isWhitespace(ch) || isRemovedControl(ch)) {
        endWord();
      } else if (isMark(ch) && wordStart < 0 && last >= 0 && spans[last][1] === start) {
        // A variation selector or accent after an emoji/ideograph stays with it instead of becoming a token.
        spans[last][1] = end;
      } else if (isWordChar(ch)) {
        if (wordStart < 0) wordStart = start;
        wordEnd = end;
      } else {
        single(start, end);
      }
      start = end;
    }
    endWord();
    return spans;
  }
}
