import type { Jieba } from '@node-rs/jieba';
import { UserError } from '../../util/errors.js';
import { isWhitespace, JIEBA_NON_WORD_TAG, loadJieba } from './jieba.js';
import { jiebaWordTagger, type PosTagger } from './pos-taggers.js';
import { joinWords, splitOnSpaces, type Segmentation, type SegmentationGuess } from './words.js';

/** One text as words, with their parts of speech when same-POS replacement needs them. */
export interface AnalysedText {
  words: string[];
  tags?: (string | undefined)[];
}

export interface TextAnalyser {
  readonly segmentation: Segmentation;
  analyse(text: string): AnalysedText;
  join(words: readonly string[]): string;
}

export interface TextAnalyserOptions extends SegmentationGuess {
  /** Whether same-POS replacement is on, so words need tags. */
  needTags: boolean;
  /** The user's POS source; without one, Chinese is tagged by jieba and English cannot be tagged. */
  tagger?: PosTagger;
}

/**
 * Builds the word splitter (and tagger) for a file. jieba is loaded only when raw Chinese must be cut
 * or Chinese words must be tagged without a user POS source.
 */
export async function createTextAnalyser(options: TextAnalyserOptions): Promise<TextAnalyser> {
  const { segmentation, chinese, needTags, tagger } = options;
  if (needTags && tagger === undefined && !chinese) {
    throw new UserError(
      'same-POS replacement (pos) on non-Chinese text needs a POS source: a "word<TAB>tag" lexicon file (--pos-lexicon)',
    );
  }
  const needJieba = segmentation === 'jieba' || (needTags && tagger === undefined);
  const jieba = needJieba ? await loadJieba() : undefined;
  const join = (words: readonly string[]) => joinWords(words, segmentation);

  if (segmentation === 'jieba') {
    const cutter = jieba!;
    const analyse =
      needTags && tagger === undefined
        ? (t: string) => cutAndTag(cutter, t)
        : cutThen(cutter, tagger, needTags);
    return { segmentation, analyse, join };
  }
  const spaceTagger = needTags ? (tagger ?? jiebaWordTagger(jieba!)) : undefined;
  return {
    segmentation,
    join,
    analyse(text) {
      const words = splitOnSpaces(text);
      return { words, tags: spaceTagger?.tagWords(words) };
    },
  };
}

/** jieba's own tags, in context; punctuation (tag x) is left untagged so it is never swapped. */
function cutAndTag(jieba: Jieba, text: string): AnalysedText {
  const words: string[] = [];
  const tags: (string | undefined)[] = [];
  for (const { word, tag } of jieba.tag(text, true)) {
    if (isWhitespace(word)) continue;
    words.push(word);
    tags.push(tag === JIEBA_NON_WORD_TAG ? undefined : tag);
  }
  return { words, tags };
}

function cutThen(
  jieba: Jieba,
  tagger: PosTagger | undefined,
  needTags: boolean,
): (text: string) => AnalysedText {
  return (text) => {
    const words = jieba.cut(text, true).filter((w) => !isWhitespace(w));
    return { words, tags: needTags ? tagger?.tagWords(words) : undefined };
  };
}
