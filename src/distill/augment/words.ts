/**
 * How a file's texts become words and how augmented words become text again.
 * - 'jieba': raw Chinese, cut by jieba; words are joined with nothing between them.
 * - 'spaces': pre-segmented Chinese or English; words are the whitespace-separated tokens, joined by one space.
 */
export type Segmentation = 'jieba' | 'spaces';

export interface SegmentationGuess {
  segmentation: Segmentation;
  /** Mostly Chinese texts: jieba can tag them. Otherwise the POS source must come from the user. */
  chinese: boolean;
}

const HAN = /\p{Script=Han}/u;
const TWO_HAN = /\p{Script=Han}[^]*\p{Script=Han}/u;
const SPACE_BETWEEN_HAN = /\p{Script=Han}\s+\p{Script=Han}/u;

/**
 * Guesses the segmentation from sample texts. Pre-segmented Chinese has whitespace between Han characters
 * in nearly every text of two or more words; raw Chinese almost never does (a space there sits between
 * Latin words or after punctuation), so a majority vote over texts with two Han characters separates them.
 */
export class SegmentationDetector {
  private nonEmpty = 0;
  private withHan = 0;
  private withTwoHan = 0;
  private withSpacedHan = 0;

  observe(text: string): void {
    if (text.trim() === '') return;
    this.nonEmpty++;
    if (!HAN.test(text)) return;
    this.withHan++;
    if (!TWO_HAN.test(text)) return;
    this.withTwoHan++;
    if (SPACE_BETWEEN_HAN.test(text)) this.withSpacedHan++;
  }

  guess(): SegmentationGuess {
    const chinese = this.withHan > 0 && this.withHan * 2 >= this.nonEmpty;
    if (!chinese) return { segmentation: 'spaces', chinese };
    const spaced = this.withTwoHan > 0 && this.withSpacedHan * 2 >= this.withTwoHan;
    return { segmentation: spaced ? 'spaces' : 'jieba', chinese };
  }
}

export function splitOnSpaces(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === '' ? [] : trimmed.split(/\s+/u);
}

const ENDS_ALNUM = /[A-Za-z0-9]$/;
const STARTS_ALNUM = /^[A-Za-z0-9]/;

/**
 * Joins words the way the input was written. Raw Chinese has no separators, but two Latin words or
 * numbers that jieba cut apart ("Hello", "world") must keep a space or they would fuse into one word.
 */
export function joinWords(words: readonly string[], segmentation: Segmentation): string {
  if (segmentation === 'spaces') return words.join(' ');
  let text = '';
  for (let i = 0; i < words.length; i++) {
    if (i > 0 && ENDS_ALNUM.test(words[i - 1]) && STARTS_ALNUM.test(words[i])) text += ' ';
    text += words[i];
  }
  return text;
}
