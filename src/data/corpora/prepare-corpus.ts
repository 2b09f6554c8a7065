/**
 * `alembic data prepare`: writes a bundled real corpus as the train/dev/test files the example configs
 * read, so every example runs on a fresh checkout without anyone writing a dataset by hand. The splits
 * are the standard seeded ones the demo and the benchmarks use; `limit` keeps a small slice of them
 * (for a quick first run, and for the test that runs every README command).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../util/errors.js';
import type { Splits } from '../split.js';
import { splitDataset } from '../split.js';
import type { ClassificationExample, SequenceExample } from '../readers/types.js';
import { loadBrown } from './brown.js';
import {
  STANDARD_SEED,
  brownGenreSplits,
  spamAssassinSplits,
  tangSongSplitsWithRest,
} from './standard-splits.js';
import { writeTsv } from './write-tsv.js';

export interface CorpusInfo {
  name: string;
  description: string;
  task: 'text_classification' | 'sequence_labeling';
}

export const CORPORA: readonly CorpusInfo[] = [
  { name: 'spam', description: 'SpamAssassin emails, ham vs spam (English)', task: 'text_classification' },
  {
    name: 'tang-song',
    description: 'Tang vs Song poems (Chinese), plus unlabelled.txt: the same poets\u2019 other poems',
    task: 'text_classification',
  },
  {
    name: 'brown-genre',
    description: 'Brown corpus sentences by genre: news, government, romance, learned (English)',
    task: 'text_classification',
  },
  {
    name: 'brown-pos',
    description: 'Brown corpus part-of-speech tagging, tokens<TAB>tags (English)',
    task: 'sequence_labeling',
  },
];

export interface PrepareOptions {
  /** At most this many training examples (dev and test get an eighth of it each, at least 8). */
  limit?: number;
  /** At most this many unlabelled texts in unlabelled.txt (tang-song only). Default 2,000. */
  unlabelled?: number;
}

export interface PreparedFiles {
  train: string;
  dev: string;
  test: string;
  unlabelled?: string;
  counts: { train: number; dev: number; test: number; unlabelled?: number };
}

type Example = ClassificationExample | SequenceExample;

/** Writes `<dir>/train.tsv`, `dev.tsv`, `test.tsv` (and `unlabelled.txt` where the corpus has one). */
export function prepareCorpus(name: string, dir: string, options: PrepareOptions = {}): PreparedFiles {
  const { splits, unlabelled } = corpusSplits(name, options.limit);
  const kept = sliceSplits(splits, options.limit);
  const files: PreparedFiles = {
    train: path.join(dir, 'train.tsv'),
    dev: path.join(dir, 'dev.tsv'),
    test: path.join(dir, 'test.tsv'),
    counts: {
      train: writeTsv(kept.train, path.join(dir, 'train.tsv')),
      dev: writeTsv(kept.dev, path.join(dir, 'dev.tsv')),
      test: writeTsv(kept.test, path.join(dir, 'test.tsv')),
    },
  };
  if (unlabelled !== undefined) {
    const texts = unlabelled.slice(0, options.unlabelled ?? 2000);
    files.unlabelled = path.join(dir, 'unlabelled.txt');
    writeFileSync(files.unlabelled, texts.map((t) => t.replace(/[\t\r\n]+/g, ' ') + '\n').join(''));
    files.counts.unlabelled = texts.length;
  }
  return files;
}

function corpusSplits(name: string, limit?: number): { splits: Splits<Example>; unlabelled?: string[] } {
  // With a limit, sample only what the slice needs: 80 % of a class-balanced sample is training data
  // and 10 % each dev and test.
  const perClass = (classes: number, fallback: number) =>
    limit === undefined ? fallback : Math.ceil(Math.max(limit / 0.8, heldOut(limit) / 0.1) / classes);
  switch (name) {
    case 'spam':
      return { splits: spamAssassinSplits() };
    case 'tang-song': {
      const { splits, rest } = tangSongSplitsWithRest(perClass(2, 5000));
      return { splits, unlabelled: rest };
    }
    case 'brown-genre':
      return { splits: brownGenreSplits(perClass(4, 1000)) };
    case 'brown-pos':
      return { splits: brownPosSplits() };
    default:
      throw new UserError(
        `data prepare: unknown corpus "${name}" (one of ${CORPORA.map((c) => c.name).join(', ')})`,
      );
  }
}

/** Brown part-of-speech tagging with the simplified tag set, split by file so no text is half seen. */
function brownPosSplits(): Splits<SequenceExample> {
  const sentences = loadBrown({ simplifyTags: true });
  const splits = splitDataset(sentences, {
    train: 0.8,
    dev: 0.1,
    test: 0.1,
    seed: STANDARD_SEED,
    groupBy: 'fileId',
  });
  const plain = (xs: typeof sentences) => xs.map(({ tokens, tags }) => ({ tokens, tags }));
  return { train: plain(splits.train), dev: plain(splits.dev), test: plain(splits.test) };
}

/** How many dev (and test) examples a `limit`-sized slice keeps. */
function heldOut(limit: number): number {
  return Math.max(8, Math.ceil(limit / 8));
}

function sliceSplits<T>(splits: Splits<T>, limit?: number): Splits<T> {
  if (limit === undefined) return splits;
  const held = heldOut(limit);
  return {
    train: splits.train.slice(0, limit),
    dev: splits.dev.slice(0, held),
    test: splits.test.slice(0, held),
  };
}
