import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Jieba } from '@node-rs/jieba';
import { InputError, UserError } from '../../util/errors.js';
import { JIEBA_NON_WORD_TAG } from './jieba.js';

/**
 * Gives each word of a text its part of speech, or undefined where the source does not know the word
 * (such words are never swapped by same-POS replacement). Takes the whole word sequence so that a
 * context-aware tagger can be plugged in later without changing the callers.
 */
export interface PosTagger {
  tagWords(words: readonly string[]): (string | undefined)[];
}

/** A user's per-word POS function, e.g. from their own tagger or dictionary. */
export type WordPosFunction = (word: string) => string | undefined;

export function functionTagger(tagOf: WordPosFunction): PosTagger {
  return { tagWords: (words) => words.map((w) => tagOf(w)) };
}

/** Looks a word up as written, then lower-cased, so that "The" finds the lexicon's "the". */
export function lexiconTagger(lexicon: ReadonlyMap<string, string>): PosTagger {
  return functionTagger((word) => lexicon.get(word) ?? lexicon.get(word.toLowerCase()));
}

/**
 * Reads a `word<TAB>tag` lexicon, one entry a line. Blank lines are allowed (they carry no entry);
 * a line without exactly one tab, or with an empty word or tag, is an error naming the line.
 * A word listed twice with different tags is an error too: which tag was meant is the user's call.
 */
export async function readWordTagFile(path: string): Promise<Map<string, string>> {
  const lexicon = new Map<string, string>();
  let lineNo = 0;
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      const fields = line.split('\t');
      if (fields.length !== 2) {
        throw new InputError(
          { file: path, line: lineNo },
          `expected "word<TAB>tag", found ${fields.length} tab-separated fields`,
        );
      }
      const word = fields[0].trim();
      const tag = fields[1].trim();
      if (word === '') throw new InputError({ file: path, line: lineNo, field: 'word' }, 'is empty');
      if (tag === '') throw new InputError({ file: path, line: lineNo, field: 'tag' }, 'is empty');
      const earlier = lexicon.get(word);
      if (earlier !== undefined && earlier !== tag) {
        throw new InputError(
          { file: path, line: lineNo, field: 'tag' },
          `"${word}" is already tagged "${earlier}", cannot also be "${tag}"`,
        );
      }
      lexicon.set(word, tag);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UserError(`${path}: POS lexicon not found`);
    throw err;
  } finally {
    lines.close();
  }
  return lexicon;
}

/**
 * Tags already-segmented Chinese words with jieba, one word at a time and cached (the cache is bounded
 * by the vocabulary). jieba may cut a pre-segmented word further; the last piece's tag is used because
 * Chinese compounds are head-final (e.g. 研究生命起源 is a noun because 起源 is).
 */
export function jiebaWordTagger(jieba: Jieba): PosTagger {
  const cache = new Map<string, string | undefined>();
  const tagOf = (word: string): string | undefined => {
    if (cache.has(word)) return cache.get(word);
    const pieces = jieba.tag(word, true);
    const tag = pieces.length === 0 ? undefined : pieces[pieces.length - 1].tag;
    const usable = tag === JIEBA_NON_WORD_TAG ? undefined : tag;
    cache.set(word, usable);
    return usable;
  };
  return functionTagger(tagOf);
}
