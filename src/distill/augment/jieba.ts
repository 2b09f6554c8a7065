import type { Jieba } from '@node-rs/jieba';

/**
 * One jieba instance per process, loaded on first use: building it parses the ~5 MB default
 * dictionary (~0.1–0.3 s), which English-only runs should never pay for.
 */
let instance: Promise<Jieba> | undefined;

export function loadJieba(): Promise<Jieba> {
  instance ??= (async () => {
    const [{ Jieba: JiebaClass }, { dict }] = await Promise.all([
      import('@node-rs/jieba'),
      import('@node-rs/jieba/dict.js'),
    ]);
    return JiebaClass.withDict(dict);
  })();
  return instance;
}

/** jieba's tag for punctuation, whitespace and other non-words: never a word to swap for another. */
export const JIEBA_NON_WORD_TAG = 'x';

/** Whitespace-only tokens that jieba emits between words; they separate words, they are not words. */
export function isWhitespace(token: string): boolean {
  return token.trim() === '';
}
