/**
 * What every task derives the same way from the `dataset` (and `model.pretrained_dir`) of its config:
 * how its reader treats bad lines and warnings, and how its vocabulary is built or loaded.
 */
import path from 'node:path';
import type { TrainConfig } from '../config/run-config.js';
import { checkpointVocabFile } from '../config/checkpoint-tokenizer.js';
import type { DataFormat } from '../data/readers/data-format.js';

/**
 * A reader's bad-line policy (the caller's choice, else the config's) with warnings going to stderr, and
 * the config's format for files whose extension does not name one.
 */
export function readerOptions(
  config: TrainConfig,
  skipBadLines: boolean | undefined,
): { skipBadLines: boolean; onWarning: (message: string) => void; format?: DataFormat } {
  return {
    format: config.dataset.format,
    skipBadLines: skipBadLines ?? config.dataset.skip_bad_lines,
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  };
}

/** Tells the user how many records a reader skipped, so a silently thinner data set is noticed. */
export function warnSkipped(file: string, skipped: number, what = 'line'): void {
  if (skipped) process.stderr.write(`warning: ${file}: skipped ${skipped} bad ${what}(s)\n`);
}

/**
 * The vocabulary to use as it is: the one named in the config, else the pretrained model's own (vocab.txt,
 * else its tokenizer.json; a missing vocab.txt is reported when it is loaded).
 */
export function givenVocabFile(config: Pick<TrainConfig, 'dataset' | 'model'>): string | undefined {
  const pretrained = config.model.pretrained_dir;
  if (config.dataset.tokenizer.vocab) return config.dataset.tokenizer.vocab;
  if (!pretrained) return undefined;
  return checkpointVocabFile(pretrained) ?? path.join(pretrained, 'vocab.txt');
}

/** Options for fitting a vocabulary: the config's limits, and the vocab.txt that replaces fitting, if any. */
export function vocabFitOptions(config: TrainConfig): {
  minFreq: number;
  maxSize: number;
  vocabFile: string | undefined;
} {
  const { vocab } = config.dataset;
  return { minFreq: vocab.min_freq, maxSize: vocab.max_size, vocabFile: givenVocabFile(config) };
}

/**
 * The examples of `dataset.vocab.from`, which the vocabulary is counted on instead of the training
 * examples (undefined when the config names no such file).
 */
export async function readVocabSource<E>(
  task: { read(file: string, opts: { labelled: boolean }): Promise<E[]> },
  config: TrainConfig,
): Promise<E[] | undefined> {
  const file = config.dataset.vocab.from;
  return file === undefined ? undefined : task.read(file, { labelled: true });
}
