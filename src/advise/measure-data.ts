/**
 * The data a measurement trains on: a seeded random sample of the user's training file (reservoir
 * sampling, so a file of millions of lines is read once and never held whole) and a dev set, either a
 * sample of the dev file or lines split off the training sample.
 *
 * A model can only be evaluated on labels it has seen, so the training sample is made to contain every
 * label (tag) of the training file: a dev line holding a label the training sample lacks moves to the
 * training side, and a label that missed the sample altogether brings in its first line from the file.
 * Header rows (classification files with named columns) are copied to the top of both samples.
 */
import { writeFileSync } from 'node:fs';
import { readLines } from '../data/line-reader.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { TaskName } from './task-mapping.js';

/** Tasks whose data files hold one example per line (the rest, JSON, are used whole). */
const LINE_TASKS: readonly TaskName[] = [
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
  'sequence_labeling',
  'text_matching',
  'text_generation',
  'language_model',
];

const CLASSIFICATION: readonly TaskName[] = [
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
];

/** Column names a classification header may use (as the classification reader accepts them). */
const HEADER_NAMES = new Set(['text_a', 'text', 'text_b', 'label', 'labels']);

export interface SampleOptions {
  task: TaskName;
  numericFeatures: readonly string[];
  train: string;
  dev?: string;
  /** Where to write the samples. */
  trainOut: string;
  devOut: string;
  maxTrain: number;
  maxDev: number;
  seed: number;
}

export interface SampleResult {
  train: string;
  dev: string;
  trainCount: number;
  devCount: number;
  devFrom: 'file' | 'split';
  /** Lines of the training file (header excluded). */
  trainLines: number;
}

export function isLineTask(task: TaskName): boolean {
  return LINE_TASKS.includes(task);
}

export async function sampleData(o: SampleOptions): Promise<SampleResult> {
  if (!isLineTask(o.task)) {
    if (o.dev === undefined) {
      throw new UserError(
        `--dev: ${o.task} data is not one example per line, so give a dev file to measure on`,
      );
    }
    // Counted by the caller, which has the task's reader.
    return { train: o.train, dev: o.dev, trainCount: 0, devCount: 0, devFrom: 'file', trainLines: 0 };
  }
  const rng = new Rng(o.seed);
  const split = o.dev === undefined;
  const trainFile = await reservoir(o, o.train, split ? o.maxTrain + o.maxDev : o.maxTrain, rng);
  const lines = rng.shuffle([...trainFile.lines]);
  let devLines: string[];
  let header = trainFile.header;
  if (split) {
    const devCount = Math.min(o.maxDev, Math.round(lines.length * 0.2));
    devLines = lines.splice(0, devCount);
  } else {
    const devFile = await reservoir(o, o.dev!, o.maxDev, rng);
    devLines = devFile.lines;
    header ??= devFile.header;
  }
  const trainLines = lines.slice(0, o.maxTrain);
  coverLabels(trainLines, devLines, trainFile, split);
  if (trainLines.length < 2 || devLines.length < 1) {
    throw new UserError(
      `${o.train}: too few examples to measure (${trainLines.length} to train on, ${devLines.length} to evaluate); ` +
        'give more data or a --dev file',
    );
  }
  const write = (file: string, body: string[]) =>
    writeFileSync(file, (header !== undefined ? [header, ...body] : body).join('\n') + '\n');
  write(o.trainOut, trainLines);
  write(o.devOut, devLines);
  return {
    train: o.trainOut,
    dev: o.devOut,
    trainCount: trainLines.length,
    devCount: devLines.length,
    devFrom: split ? 'split' : 'file',
    trainLines: trainFile.total,
  };
}

interface FileSample {
  header?: string;
  lines: string[];
  total: number;
  /** Each label's first line in the file (for coverage). */
  firstLineOf: Map<string, string>;
  labelsOf: (line: string) => string[];
}

/** Reads `file` once, keeping a uniform random sample of `size` lines and each label's first line. */
async function reservoir(o: SampleOptions, file: string, size: number, rng: Rng): Promise<FileSample> {
  const sample: FileSample = { lines: [], total: 0, firstLineOf: new Map(), labelsOf: () => [] };
  let first = true;
  for await (const line of readLines(file)) {
    if (first) {
      first = false;
      const header = headerRow(o, line.text);
      sample.labelsOf = labelReader(o.task, header);
      if (header !== undefined) {
        sample.header = line.text;
        continue;
      }
    }
    sample.total++;
    for (const label of sample.labelsOf(line.text)) {
      if (!sample.firstLineOf.has(label)) sample.firstLineOf.set(label, line.text);
    }
    if (sample.lines.length < size) sample.lines.push(line.text);
    else {
      const j = rng.int(sample.total);
      if (j < size) sample.lines[j] = line.text;
    }
  }
  return sample;
}

/** A classification file's header row, split into names, or undefined (the reader's own rule). */
function headerRow(o: SampleOptions, text: string): string[] | undefined {
  if (!CLASSIFICATION.includes(o.task)) return undefined;
  const names = text.split('\t').map((f) => f.trim());
  return o.numericFeatures.length > 0 || names.every((n) => HEADER_NAMES.has(n)) ? names : undefined;
}

/** The labels (tags) a line carries, for the tasks that have them; other tasks have none to cover. */
function labelReader(task: TaskName, header: string[] | undefined): (line: string) => string[] {
  if (CLASSIFICATION.includes(task)) {
    const named = header?.findIndex((n) => n === 'label' || n === 'labels') ?? -1;
    return (line) => {
      const fields = line.split('\t');
      const value = (named >= 0 ? fields[named] : fields[fields.length - 1])?.trim() ?? '';
      if (value === '') return [];
      return task === 'multi_label_classification' ? value.split(/ +/) : [value];
    };
  }
  if (task === 'sequence_labeling') {
    return (line) => {
      const tags = line.split('\t')[1] ?? '';
      return tags.split(tags.includes('\u0002') ? '\u0002' : ' ').filter((t) => t !== '');
    };
  }
  return () => [];
}

/** Makes every label of the training file appear in the training sample (see the file comment). */
function coverLabels(train: string[], dev: string[], file: FileSample, devIsSplit: boolean): void {
  const seen = new Set(train.flatMap(file.labelsOf));
  for (const [label, firstLine] of file.firstLineOf) {
    if (seen.has(label)) continue;
    const i = devIsSplit ? dev.findIndex((l) => file.labelsOf(l).includes(label)) : -1;
    const line = i >= 0 ? dev.splice(i, 1)[0] : firstLine;
    train.push(line);
    for (const l of file.labelsOf(line)) seen.add(l);
  }
}
