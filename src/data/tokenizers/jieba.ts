import { createRequire } from 'node:module';
import type { Jieba } from '@node-rs/jieba';
import { WordTokenizer } from './word-tokenizer.js';

// The dictionary is ~5 MB and building the segmenter from it takes a few hundred milliseconds, so it
// is loaded on first use rather than whenever this module is imported. `require` keeps the load
// synchronous so tokenize() can stay synchronous.
const require = createRequire(import.meta.url);
let segmenter: Jieba | undefined;

function jieba(): Jieba {
  if (segmenter === undefined) {
    const { Jieba: JiebaClass } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
    const { dict } = require('@node-rs/jieba/dict.js') as typeof import('@node-rs/jieba/dict.js');
    segmenter = JiebaClass.withDict(dict);
  }
  return segmenter;
}

/** jieba's default: the HMM finds words that are not in the dictionary (names, new words). */
const USE_HMM = true;

export interface TaggedWord {
  word: string;
  tag: string;
}

/**
 * Words with jieba part-of-speech tags (ICTCLAS tag set: n, v, a, ns, nr, eng, x for punctuation and
 * spaces, ...). Nothing is dropped, so joining the words gives back the text; augmentation relies on that.
 */
export function posTag(text: string): TaggedWord[] {
  return jieba()
    .tag(text, USE_HMM)
    .map(({ word, tag }) => ({ word, tag }));
}

/** Chinese word tokens from jieba; whitespace-only pieces are dropped. */
export class JiebaTokenizer extends WordTokenizer {
  readonly kind = 'jieba' as const;

  protected spans(text: string): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    let cursor = 0;
    for (const word of jieba().cut(text, USE_HMM)) {
      // jieba returns consecutive slices of the input; searching from the cursor also tolerates
      // anything it might skip.
      const start = text.indexOf(word, cursor);
      if (start < 0)
        throw new Error(`jieba returned "${word}", which is not in the text after offset ${cursor}`);
      cursor = start + word.length;
      if (word.trim() !== '') spans.push([start, cursor]);
    }
    return spans;
  }
}
