/**
 * Small slices of the bundled real corpora in every task's documented format, for the test that trains
 * each init-config template. Tasks without a bundled corpus get data derived by a fixed rule:
 *   text_classification         SpamAssassin emails, spam / ham, balanced
 *   sequence_labeling           Brown news sentences, simplified POS tags
 *   text_pair_classification,   two lines of Tang/Song poems: "next" when text_b is the line after text_a
 *   text_matching (0/1)         in the same poem, "other" (0) when it is a line of another poem
 *   multi_label_classification  a poem, labelled with which of 月 風 山 花 水 it contains
 *   text_generation             a poem line → the next line
 *   reading_comprehension       context = a poem, question = one of its lines, answer = the next line
 *   language_model              poems, one a line
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadBrown } from '../../src/data/corpora/brown.js';
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

/** Line pairs: (line, next line of the same poem) and (line, a line of another poem), alternately. */
function linePairs(rng: Rng, n: number, offset: number): { a: string; b: string; next: boolean }[] {
  const ps = poems();
  return Array.from({ length: n }, (_, i) => {
    const poem = ps[(offset + i) % ps.length];
    const k = rng.int(poem.length - 1);
    const other = ps[(offset + i + 1 + rng.int(ps.length - 1)) % ps.length];
    return i % 2 === 0
      ? { a: poem[k], b: poem[k + 1], next: true }
      : { a: poem[k], b: other[rng.int(other.length)], next: false };
  });
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
    case 'text_pair_classification': {
      const pairs = linePairs(rng, TRAIN + DEV, 0);
      return {
        ...splitWrite(
          dir,
          'tsv',
          pairs.map((p) => `${p.a}\t${p.b}\t${p.next ? 'next' : 'other'}`),
        ),
        chance: 0.5,
      };
    }
    case 'text_matching': {
      const pairs = linePairs(rng, TRAIN + DEV, 0);
      return {
        ...splitWrite(
          dir,
          'tsv',
          pairs.map((p) => `${p.a}\t${p.b}\t${p.next ? 1 : 0}`),
        ),
        chance: 0.5,
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
    case 'text_generation':
      return splitWrite(
        dir,
        'tsv',
        poems().map((p) => `${p[0]}\t${p[1]}`),
      );
    case 'language_model':
      return splitWrite(
        dir,
        'txt',
        poems().map((p) => p.join('，') + '。'),
      );
    case 'reading_comprehension': {
      const doc = (list: string[][], from: number) => ({
        data: [
          {
            paragraphs: list.map((p, i) => {
              const context = p.join('，') + '。';
              const k = (from + i) % (p.length - 1);
              return {
                context,
                qas: [
                  {
                    id: `q${from + i}`,
                    question: p[k],
                    answers: [
                      {
                        text: p[k + 1],
                        answer_start: p.slice(0, k + 1).reduce((n, l) => n + [...l].length + 1, 0),
                      },
                    ],
                  },
                ],
              };
            }),
          },
        ],
      });
      const ps = poems();
      const train = path.join(dir, 'train.json');
      const dev = path.join(dir, 'dev.json');
      writeFileSync(train, JSON.stringify(doc(ps.slice(0, TRAIN), 0)));
      writeFileSync(dev, JSON.stringify(doc(ps.slice(TRAIN, TRAIN + DEV), TRAIN)));
      return { train, dev };
    }
  }
}
