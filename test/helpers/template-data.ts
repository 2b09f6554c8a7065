/**
 * Small slices of the bundled real corpora in every task's documented format, for the test that trains
 * each init-config template, and the trivial baselines a trained template must beat. Classification and
 * tagging read the labelled corpora; the other tasks read the sets `alembic data prepare` derives from
 * real text (src/data/corpora/prepare-corpus.ts), through the same code a user runs:
 *   text_classification         SpamAssassin emails, spam / ham, balanced
 *   sequence_labeling           Brown news sentences, simplified POS tags
 *   text_pair_classification    brown-which-novel: which of two sentences is a novel's
 *   text_matching (0/1)         brown-same-text: a sentence and the next two of its text, or of another
 *   multi_label_classification  a poem, labelled with which of 月 風 山 花 水 it contains
 *   text_generation             poem-couplets: a couplet's first line → its second line
 *   reading_comprehension       poem-next-line: a poem, 「a line」的下一句？, the next line's span
 *   language_model              poem-lm: poems, one a line
 * The baselines: chance (the commonest dev label), the add-one unigram perplexity of the same tokens,
 * and for reading comprehension the one fixed span (start, length) that scores best on the training set.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { loadBrown } from '../../src/data/corpora/brown.js';
import { prepareCorpus } from '../../src/data/corpora/prepare-corpus.js';
import { spanReport } from '../../src/metrics/index.js';
import { loadTangSongWithRest } from '../../src/data/corpora/chinese-poetry.js';
import { loadSpamAssassin } from '../../src/data/corpora/spam-assassin.js';
import type { TaskName } from '../../src/config/run-config.js';
import { Rng } from '../../src/util/rng.js';

export interface TemplateData {
  train: string;
  dev: string;
  /** Accuracy of always answering the most frequent dev class, where a chance level applies. */
  chance?: number;
}

/** Slice sizes of the derived sets: enough steps to learn, few enough for a short test. */
const PREPARED: Partial<Record<TaskName, { corpus: string; limit: number }>> = {
  text_pair_classification: { corpus: 'brown-which-novel', limit: 1600 },
  text_matching: { corpus: 'brown-same-text', limit: 2400 },
  language_model: { corpus: 'poem-lm', limit: 1200 },
  text_generation: { corpus: 'poem-couplets', limit: 1200 },
  reading_comprehension: { corpus: 'poem-next-line', limit: 600 },
};

/** The last tab-separated field of each line of a TSV file. */
function lastFields(file: string): string[] {
  return lines(file).map((l) => l.slice(l.lastIndexOf('\t') + 1));
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/**
 * Perplexity on `dev` of the add-one (Laplace) unigram of `train`: each text's first `maxTokens` tokens
 * and its end, a token unseen in training counted as one unknown class — the model's [UNK].
 */
export function unigramPerplexity(
  train: readonly string[],
  dev: readonly string[],
  tokenize: (text: string) => string[],
  maxTokens: number,
): number {
  const END = '\u0000end';
  const tokens = (text: string) => [...tokenize(text).slice(0, maxTokens), END];
  const counts = new Map<string, number>();
  let total = 0;
  for (const t of train)
    for (const tok of tokens(t)) {
      counts.set(tok, (counts.get(tok) ?? 0) + 1);
      total++;
    }
  const classes = counts.size + 1;
  let nll = 0;
  let n = 0;
  for (const t of dev)
    for (const tok of tokens(t)) {
      nll -= Math.log(((counts.get(tok) ?? 0) + 1) / (total + classes));
      n++;
    }
  return Math.exp(nll / n);
}

interface SquadFile {
  data: { paragraphs: { context: string; qas: { answers: { text: string }[] }[] }[] }[];
}

function squad(file: string): { context: string; answer: string }[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as SquadFile;
  return doc.data.flatMap((d) =>
    d.paragraphs.map((p) => ({ context: p.context, answer: p.qas[0].answers[0].text })),
  );
}

/**
 * Dev F1 of answering every question with the same characters of its context: the (start, length)
 * that scores best on the training questions (a model that learnt nothing but where answers tend to be).
 */
export function fixedSpanF1(trainFile: string, devFile: string): number {
  const f1 = (qs: { context: string; answer: string }[], start: number, length: number) =>
    spanReport(
      qs.map((q) => [...q.context].slice(start, start + length).join('')),
      qs.map((q) => [q.answer]),
    ).f1;
  const train = squad(trainFile);
  let best = { f1: -1, start: 0, length: 1 };
  for (let start = 0; start < 40; start++)
    for (let length = 1; length <= 10; length++) {
      const score = f1(train, start, length);
      if (score > best.f1) best = { f1: score, start, length };
    }
  return f1(squad(devFile), best.start, best.length);
}

/** Generation data: sources and targets of a TSV file. */
export function generationPairs(file: string): { source: string; target: string }[] {
  return lines(file).map((l) => {
    const [source, target] = l.split('\t');
    return { source, target };
  });
}

export function textLines(file: string): string[] {
  return lines(file);
}

const TRAIN = 240;
const DEV = 80;

let poemsCache: string[][] | undefined;
/** Poems as lists of lines (split at the Chinese punctuation), at least two lines each. */
function poems(): string[][] {
  poemsCache ??= loadTangSongWithRest({ limitPerClass: 300 })
    .examples.map((e) => e.text.split(/[，。！？；、]/).filter((l) => l.length > 0))
    .filter((lines) => lines.length >= 2);
  return poemsCache;
}

function write(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function majorityShare(labels: string[]): number {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

function splitWrite(dir: string, ext: string, rows: string[], train = TRAIN): { train: string; dev: string } {
  return {
    train: write(dir, `train.${ext}`, rows.slice(0, train)),
    dev: write(dir, `dev.${ext}`, rows.slice(train, train + DEV)),
  };
}

/** Classification and tagging, whose runs must end above chance, get more training examples. */
const TRAIN_LONG = 640;

let spamCache: { text: string; label: string }[] | undefined;

export function templateData(task: TaskName, dir: string): TemplateData {
  const prepared = PREPARED[task];
  if (prepared) {
    const files = prepareCorpus(prepared.corpus, path.join(dir, prepared.corpus), { limit: prepared.limit });
    const paired = task === 'text_pair_classification' || task === 'text_matching';
    return {
      train: files.train,
      dev: files.dev,
      chance: paired ? majorityShare(lastFields(files.dev)) : undefined,
    };
  }
  const rng = new Rng(7);
  const clean = (s: string) => s.replace(/\s+/g, ' ').trim();
  switch (task) {
    case 'text_classification': {
      spamCache ??= (() => {
        const all = loadSpamAssassin();
        const spam = rng.shuffle(all.filter((e) => e.label === 'spam')).slice(0, (TRAIN_LONG + DEV) / 2);
        const ham = rng.shuffle(all.filter((e) => e.label !== 'spam')).slice(0, (TRAIN_LONG + DEV) / 2);
        return rng
          .shuffle([...spam, ...ham])
          .map((e) => ({ text: clean(e.text).slice(0, 400), label: e.label! }));
      })();
      const rows = spamCache.map((e) => `${e.text}\t${e.label}`);
      const devLabels = spamCache.slice(TRAIN_LONG, TRAIN_LONG + DEV).map((e) => e.label);
      return { ...splitWrite(dir, 'tsv', rows, TRAIN_LONG), chance: majorityShare(devLabels) };
    }
    case 'sequence_labeling': {
      const sentences = loadBrown({ genres: ['news'], simplifyTags: true }).filter(
        (x) => x.tokens.length <= 30,
      );
      const train = sentences.slice(0, TRAIN_LONG);
      // Dev sentences whose tags all occur in training (an unseen tag is an input error).
      const seen = new Set(train.flatMap((x) => x.tags!));
      const dev = sentences
        .slice(TRAIN_LONG)
        .filter((x) => x.tags!.every((t) => seen.has(t)))
        .slice(0, DEV);
      const rows = [...train, ...dev].map((x) => `${x.tokens.join(' ')}\t${x.tags!.join(' ')}`);
      return {
        ...splitWrite(dir, 'tsv', rows, TRAIN_LONG),
        chance: majorityShare(dev.flatMap((x) => x.tags!)),
      };
    }
    case 'multi_label_classification': {
      const rows = poems().map((p) => {
        const text = p.join('，');
        const labels = [...'月風山花水'].filter((c) => text.includes(c));
        return `${text}\t${labels.length ? labels.join(' ') : '無'}`;
      });
      return splitWrite(dir, 'tsv', rows);
    }
    default:
      throw new Error(`no template data for ${task}`);
  }
}
