/**
 * `alembic data prepare`: writes a bundled real corpus as the train/dev/test files the example configs
 * read, so every example runs on a fresh checkout without anyone writing a dataset by hand. The splits
 * are the standard seeded ones the demo and the benchmarks use; `limit` keeps a small slice of them
 * (for a quick first run, and for the tests that run every README command and train every init-config
 * template). Besides the labelled corpora, tasks with no bundled labels get data derived from real text
 * by fixed rules (brown-pairs.ts, poem-tasks.ts), split first so that no text is in two splits.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../util/errors.js';
import type { TaskName } from '../../config/run-config.js';
import { Rng } from '../../util/rng.js';
import type { Splits } from '../split.js';
import { splitDataset } from '../split.js';
import type {
  ClassificationExample,
  GenerationExample,
  ReadingComprehensionExample,
  SequenceExample,
  TextExample,
} from '../readers/types.js';
import { loadBrown } from './brown.js';
import { brownPairSplits } from './brown-pairs.js';
import { poemCouplets, poemQuestion, poemText } from './poem-tasks.js';
import {
  STANDARD_SEED,
  brownGenreSplits,
  spamAssassinSplits,
  tangSongSplitsWithRest,
} from './standard-splits.js';
import { writeSquad } from './write-squad.js';
import { writeTsv } from './write-tsv.js';

export interface CorpusInfo {
  name: string;
  description: string;
  /** The tasks whose documented format the files are in. */
  tasks: TaskName[];
}

export const CORPORA: readonly CorpusInfo[] = [
  { name: 'spam', description: 'SpamAssassin emails, ham vs spam (English)', tasks: ['text_classification'] },
  {
    name: 'tang-song',
    description: 'Tang vs Song poems (Chinese), plus unlabelled.txt: the same poets\u2019 other poems',
    tasks: ['text_classification'],
  },
  {
    name: 'brown-genre',
    description: 'Brown corpus sentences by genre: news, government, romance, learned (English)',
    tasks: ['text_classification'],
  },
  {
    name: 'brown-pos',
    description: 'Brown corpus part-of-speech tagging, tokens<TAB>tags (English)',
    tasks: ['sequence_labeling'],
  },
  {
    name: 'brown-which-novel',
    description:
      'pairs of Brown sentences, one from a romance novel, one from a government text: which is the novel\u2019s, a or b (English)',
    tasks: ['text_pair_classification'],
  },
  {
    name: 'brown-same-text',
    description:
      'Brown sentence pairs, 0/1: a sentence and the next two of its text (1), or two of a text of the other genre (0) (English)',
    tasks: ['text_matching'],
  },
  {
    name: 'poem-lm',
    description: 'Tang and Song poems, one a line, as .txt (Chinese)',
    tasks: ['language_model'],
  },
  {
    name: 'poem-couplets',
    description: 'the first line of a couplet of a Tang or Song poem<TAB>its second line (Chinese)',
    tasks: ['text_generation'],
  },
  {
    name: 'poem-next-line',
    description:
      'SQuAD JSON: a poem, the question 「line」的下一句？, the answer the next line\u2019s span (Chinese)',
    tasks: ['reading_comprehension'],
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

type Example =
  ClassificationExample | SequenceExample | TextExample | GenerationExample | ReadingComprehensionExample;

/**
 * Writes `<dir>/train.<ext>`, `dev.<ext>`, `test.<ext>` (and `unlabelled.txt` where the corpus has one):
 * .tsv, .txt for language-model text, .json (SQuAD) for reading comprehension.
 */
export function prepareCorpus(name: string, dir: string, options: PrepareOptions = {}): PreparedFiles {
  const { splits, unlabelled, format = 'tsv' } = corpusSplits(name, options.limit);
  const kept = sliceSplits(splits, options.limit);
  const file = (split: string) => path.join(dir, `${split}.${format}`);
  const targets = ['train', 'dev', 'test'].map(file);
  if (unlabelled !== undefined) targets.push(path.join(dir, 'unlabelled.txt'));
  claimPreparedFiles(dir, targets);
  const write = (examples: Example[], to: string) =>
    format === 'json'
      ? writeSquad(examples as ReadingComprehensionExample[], to)
      : writeTsv(examples as Exclude<Example, ReadingComprehensionExample>[], to);
  const files: PreparedFiles = {
    train: file('train'),
    dev: file('dev'),
    test: file('test'),
    counts: {
      train: write(kept.train, file('train')),
      dev: write(kept.dev, file('dev')),
      test: write(kept.test, file('test')),
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

/** Beside the prepared files: the names `data prepare` wrote there, which a later run may replace. */
const PREPARED_LIST = '.alembic-prepared';

/**
 * Refuses, before anything is written, a folder holding a file of one of these names that `data prepare` did
 * not write (a user's own data must never be replaced); then records the names as its own.
 */
function claimPreparedFiles(dir: string, files: string[]): void {
  const list = path.join(dir, PREPARED_LIST);
  const ours = new Set(existsSync(list) ? readFileSync(list, 'utf8').split('\n').filter(Boolean) : []);
  const names = files.map((f) => path.basename(f));
  const foreign = names.find((n) => existsSync(path.join(dir, n)) && !ours.has(n));
  if (foreign !== undefined)
    throw new UserError(
      `${path.join(dir, foreign)}: exists and was not written by alembic data prepare; choose another --out or move the file`,
    );
  mkdirSync(dir, { recursive: true });
  writeFileSync(list, [...new Set([...ours, ...names])].sort().join('\n') + '\n');
}

interface CorpusSplits {
  splits: Splits<Example>;
  unlabelled?: string[];
  /** The files' extension and format: TSV (default), plain text, SQuAD JSON. */
  format?: 'tsv' | 'txt' | 'json';
}

function corpusSplits(name: string, limit?: number): CorpusSplits {
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
    case 'brown-which-novel':
      return { splits: brownPairSplits('which-novel', STANDARD_SEED) };
    case 'brown-same-text':
      return { splits: brownPairSplits('same-text', STANDARD_SEED) };
    case 'poem-lm':
      return { splits: poemSplits(perClass(2, 5000), (poem) => [poemText(poem)]), format: 'txt' };
    case 'poem-couplets':
      return { splits: poemSplits(perClass(2, 5000), poemCouplets) };
    case 'poem-next-line': {
      const rng = new Rng(STANDARD_SEED);
      const question = (poem: string, id: string) => {
        const q = poemQuestion(poem, id, rng);
        return q ? [q] : [];
      };
      return { splits: poemSplits(perClass(2, 5000), question), format: 'json' };
    }
    default:
      throw new UserError(
        `data prepare: unknown corpus "${name}" (one of ${CORPORA.map((c) => c.name).join(', ')})`,
      );
  }
}

/**
 * Examples derived from the poems of the standard Tang/Song splits (so the three share no poem), in
 * the splits' order; `derive` gets the poem text and an id (`<split>-<n>`).
 */
function poemSplits<T>(perClass: number, derive: (poem: string, id: string) => T[]): Splits<T> {
  const { splits } = tangSongSplitsWithRest(perClass);
  const of = (name: keyof Splits<T>) => splits[name].flatMap((p, i) => derive(p.text, `${name}-${i}`));
  return { train: of('train'), dev: of('dev'), test: of('test') };
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
