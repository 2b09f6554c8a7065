/**
 * The fixed, seeded splits of the bundled corpora that the demo and every benchmark share, so numbers
 * from different benchmarks (classification, distillation, deployment) speak of the same data.
 */
import path from 'node:path';
import { balanceClasses, splitDataset, type Splits } from '../split.js';
import type { ClassificationExample } from '../readers/types.js';
import { loadBrown } from './brown.js';
import { loadTangSongWithRest } from './chinese-poetry.js';
import { loadSpamAssassin } from './spam-assassin.js';
import { writeTsv } from './write-tsv.js';

export const STANDARD_SEED = 20261124;

/** SpamAssassin ham vs spam: all 6,046 emails, stratified 80/10/10. */
export function spamAssassinSplits(seed = STANDARD_SEED): Splits<ClassificationExample> {
  const emails = loadSpamAssassin().map((e) => ({ text: e.text, label: e.label, id: e.id }));
  return splitDataset(emails, { train: 0.8, dev: 0.1, test: 0.1, seed, stratifyBy: 'label' });
}

/** Tang vs Song poems, class-balanced (`perClass` each, 10,000 by default: 20,000 poems), stratified 80/10/10. */
export function tangSongSplits(perClass = 10000, seed = STANDARD_SEED): Splits<ClassificationExample> {
  return tangSongSplitsWithRest(perClass, seed).splits;
}

/**
 * tangSongSplits and the rest of the poems it sampled from (the same poets' other poems, none of them in
 * a split): in-domain unlabelled text for distillation and pre-training.
 */
export function tangSongSplitsWithRest(
  perClass = 10000,
  seed = STANDARD_SEED,
): { splits: Splits<ClassificationExample>; rest: string[] } {
  const { examples, rest } = loadTangSongWithRest({ seed, limitPerClass: perClass });
  const poems = examples.map((p) => ({ text: p.text, label: p.label }));
  const splits = splitDataset(poems, { train: 0.8, dev: 0.1, test: 0.1, seed, stratifyBy: 'label' });
  return { splits, rest: rest.map((r) => r.text) };
}

/** The Brown genres of the sentence-level genre task: four that differ in topic and register. */
export const BROWN_GENRES = ['news', 'government', 'romance', 'learned'];

/**
 * Which Brown genre a sentence is from (`perClass` sentences of each of BROWN_GENRES, the corpus's own
 * tokens joined by spaces), split 80/10/10 by file so that no text is half seen, stratified by genre.
 */
export function brownGenreSplits(perClass = 1000, seed = STANDARD_SEED): Splits<ClassificationExample> {
  const sentences = loadBrown({ genres: BROWN_GENRES }).map((s) => ({
    text: s.tokens.join(' '),
    label: s.genre,
    fileId: s.fileId,
  }));
  const kept = balanceClasses(sentences, 'label', seed, perClass);
  const splits = splitDataset(kept, {
    train: 0.8,
    dev: 0.1,
    test: 0.1,
    seed,
    stratifyBy: 'label',
    groupBy: 'fileId',
  });
  const plain = (xs: typeof kept) => xs.map(({ text, label }) => ({ text, label }));
  return { train: plain(splits.train), dev: plain(splits.dev), test: plain(splits.test) };
}

/** Writes train.tsv, dev.tsv and test.tsv into `dir`; returns their paths. */
export function writeSplits(
  splits: Splits<ClassificationExample>,
  dir: string,
): { train: string; dev: string; test: string } {
  const files = {
    train: path.join(dir, 'train.tsv'),
    dev: path.join(dir, 'dev.tsv'),
    test: path.join(dir, 'test.tsv'),
  };
  writeTsv(splits.train, files.train);
  writeTsv(splits.dev, files.dev);
  writeTsv(splits.test, files.test);
  return files;
}
