/**
 * Sentence pairs from the Brown corpus, real text whose pair label a small model can learn (line pairs
 * of poems cannot be told apart by a small model at all: neighbouring lines share almost no
 * characters). Two sets, over romance (novels: dialogue, pronouns) and government (formal prose) texts:
 *   which-novel  (text_pair_classification) one sentence of each genre, in random order; the label says
 *                which one is the novel's, "a" or "b". A comparison: each side is evidence.
 *   same-text    (text_matching, 0/1) 1: a sentence and the two that follow it in the same text;
 *                0: a sentence and two consecutive sentences of a text of the other genre. Both genres
 *                appear on both sides under both labels, so the model has to compare the two texts.
 * Texts are split by file (80/10/10, seeded, stratified by genre), so no text is half seen, and pairs are
 * built within each split.
 */
import { Rng } from '../../util/rng.js';
import type { ClassificationExample } from '../readers/types.js';
import { splitDataset, type Splits } from '../split.js';
import { loadBrown } from './brown.js';

const NOVEL = 'romance';
const OTHER = 'government';

interface BrownText {
  fileId: string;
  genre: string;
  sentences: string[];
}

export type BrownPairKind = 'which-novel' | 'same-text';

export function brownPairSplits(kind: BrownPairKind, seed: number): Splits<ClassificationExample> {
  const texts = new Map<string, BrownText>();
  for (const s of loadBrown({ genres: [NOVEL, OTHER] })) {
    const text = texts.get(s.fileId) ?? { fileId: s.fileId, genre: s.genre, sentences: [] };
    text.sentences.push(s.tokens.join(' '));
    texts.set(s.fileId, text);
  }
  const split = splitDataset([...texts.values()], {
    train: 0.8,
    dev: 0.1,
    test: 0.1,
    seed,
    stratifyBy: 'genre',
  });
  const rng = new Rng(seed);
  const build = kind === 'which-novel' ? whichNovel : sameText;
  return { train: build(split.train, rng), dev: build(split.dev, rng), test: build(split.test, rng) };
}

function whichNovel(texts: BrownText[], rng: Rng): ClassificationExample[] {
  const of = (genre: string) =>
    rng.shuffle(texts.filter((t) => t.genre === genre).flatMap((t) => t.sentences));
  const novel = of(NOVEL);
  const other = of(OTHER);
  return Array.from({ length: Math.min(novel.length, other.length) }, (_, i) =>
    i % 2 === 0
      ? { text: novel[i], textB: other[i], label: 'a' }
      : { text: other[i], textB: novel[i], label: 'b' },
  );
}

function sameText(texts: BrownText[], rng: Rng): ClassificationExample[] {
  const starts = rng.shuffle(texts.flatMap((t) => t.sentences.slice(0, -2).map((_, k) => ({ text: t, k }))));
  return starts.flatMap(({ text, k }, i) => {
    const a = text.sentences[k];
    if (i % 2 === 0) return [{ text: a, textB: text.sentences.slice(k + 1, k + 3).join(' '), label: '1' }];
    const others = texts.filter((t) => t.genre !== text.genre);
    if (others.length === 0) return [];
    const other = others[rng.int(others.length)];
    const j = rng.int(Math.max(1, other.sentences.length - 1));
    return [{ text: a, textB: other.sentences.slice(j, j + 2).join(' '), label: '0' }];
  });
}
