/**
 * Whether a run reads its training file into memory or streams it (dataset.streaming), and the streamed
 * case's preparation: one pass over the file through the task's reader, which reports bad lines before
 * training starts, fits the vocabulary and labels one example at a time, and writes the line index into
 * the run's output folder (never beside the user's data). A later run over the same output folder (a resumed
 * one) reuses index and fit while the file's size and modification time, and the settings, are unchanged.
 * In a data-parallel group rank 0 alone indexes and fits; the other ranks wait for it at a barrier (within
 * --dist-timeout) and then reuse what it wrote, and the batches drawn are global ones that each rank slices.
 * The console says which way the file is read.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { STREAMING_AUTO_BYTES, type TrainConfig } from '../config/run-config.js';
import { existingLineIndex, fileStamp, type LineIndex } from '../data/line-index.js';
import type { RecordPlace } from '../data/readers/types.js';
import { StreamedBatches } from '../data/streamed-batches.js';
import { indexDataFile, StreamedLines } from '../data/streamed-lines.js';
import { givenVocabFile } from '../tasks/dataset-options.js';
import type { AnyTask } from '../tasks/registry.js';
import type { StreamingSupport } from '../tasks/task.js';
import { UserError } from '../util/errors.js';
import { dataParallel, globalBatchSize } from './data-parallel.js';

/** The index of the training file's examples, in the run's output folder. */
export const TRAIN_INDEX_FILE = 'train-lines.idx';
/** The vocabulary and labels the indexing pass fitted, beside the index (reused while the file is unchanged). */
const TRAIN_FIT_DIR = 'train-lines.fit';

export interface StreamedTrainData {
  batches: StreamedBatches<unknown, unknown>;
  /** Training examples (lines read and accepted). */
  count: number;
}

/**
 * How the training file is read: `streamed` when it is streamed; otherwise it is read into memory as usual,
 * and `note` is the console's line on why (printed once the file has been read: a bad line's error comes first).
 */
export interface TrainDataPlan {
  streamed?: StreamedTrainData;
  note?: string;
}

/**
 * Streams the training file when dataset.streaming says so (or "auto" finds it large), after fitting the
 * task on it (and on dataset.vocab.from, streamed too: a vocabulary source is as large as the data it
 * comes with). When the file is read into memory instead, the caller reads dataset.vocab.from itself.
 */
export async function streamTrainData(
  task: AnyTask,
  config: TrainConfig,
  log: (line: string) => void,
): Promise<TrainDataPlan> {
  const file = config.dataset.train;
  const setting = config.dataset.streaming;
  if (setting === false) return {};
  const { size } = fileStamp(file);
  const offered = task.streaming?.();
  const support = typeof offered === 'object' ? offered : undefined;
  if (setting === 'auto' && (size <= STREAMING_AUTO_BYTES || !support)) {
    const why = size > STREAMING_AUTO_BYTES ? `: ${inMemoryReason(config, offered)}` : '';
    return { note: `data: ${file} (${megabytes(size)}) read into memory${why}` };
  }
  if (!support)
    throw new UserError(`dataset.streaming: ${file} cannot be streamed: ${inMemoryReason(config, offered)}`);

  const out = config.trainer.output_dir;
  mkdirSync(out, { recursive: true });
  const indexFile = path.join(out, TRAIN_INDEX_FILE);
  const fitDir = path.join(out, TRAIN_FIT_DIR);
  log(`data: ${file} (${megabytes(size)}) streamed a batch at a time, through the line index ${indexFile}`);
  const key = fitKey(config);
  const dp = dataParallel();
  let index: LineIndex | undefined;
  if (dp && !dp.isMain) {
    // Rank 0 indexes the file and fits the task in the shared output folder; this rank reads its work.
    dp.barrier();
    index = existingLineIndex(indexFile, file);
    if (!index || !reuseFit(index, fitDir, key, support, config)) {
      index?.close();
      throw new UserError(
        `rank ${dp.rank}: ${indexFile}: rank 0's line index of ${file} is missing or for other settings; ` +
          'every rank must see the same trainer.output_dir (shared storage when the ranks run on several machines)',
      );
    }
    log(`data: rank 0 indexed the file: ${index.count} examples, vocabulary and labels reused`);
  } else {
    index = existingLineIndex(indexFile, file);
    if (index && reuseFit(index, fitDir, key, support, config)) {
      // The file and the settings are those the index was built with: its fit stands (a resumed run).
      log(
        `data: the file is unchanged since it was indexed: ${index.count} examples, vocabulary and labels reused`,
      );
    } else {
      index?.close();
      const vocabFrom = config.dataset.vocab.from;
      const fitter = support.fitter(vocabFrom !== undefined);
      if (vocabFrom !== undefined) await support.readEach(vocabFrom, (example) => fitter.vocab(example));
      const readEach = (onPlace: (place: RecordPlace) => void) =>
        support.readEach(file, (example, place) => {
          fitter.add(example);
          onPlace(place);
        });
      index = await indexDataFile(file, indexFile, readEach, (): SavedFit => {
        fitter.finish();
        mkdirSync(fitDir, { recursive: true });
        task.save(fitDir);
        return {
          key,
          tokenizer: config.dataset.tokenizer.type,
          state: task.state(),
          extra: support.fitExtra?.(),
        };
      });
    }
    // The index and the fit are written: the other ranks may read them.
    dp?.barrier();
  }
  const lines = new StreamedLines(index);
  const parse = await support.lineParser(file, lines.firstLine());
  const t = config.trainer;
  // In a data-parallel group a step draws one global batch, which the ranks share out (data-parallel.ts).
  const batchSize = globalBatchSize(t.batch_size);
  const batches = new StreamedBatches(lines, parse, (e) => task.encode(e), batchSize, t.seed);
  return { streamed: { batches, count: index.count } };
}

/**
 * Restores the fit kept with `index` into the task (and an "auto" tokenizer's choice into the config) when
 * it was made with these settings; false when it was not, or its folder is gone.
 */
function reuseFit(
  index: LineIndex,
  fitDir: string,
  key: string,
  support: StreamingSupport<unknown>,
  config: TrainConfig,
): boolean {
  const saved = index.extra as SavedFit | undefined;
  if (saved?.key !== key || !existsSync(fitDir)) return false;
  config.dataset.tokenizer.type = saved.tokenizer;
  support.restore({ dir: fitDir, state: saved.state, extra: saved.extra });
  return true;
}

/**
 * The fit kept with an index: the settings it was made with, the tokenizer an "auto" chose, the task's
 * state and what else the fit holds (StreamingSupport.fitExtra).
 */
interface SavedFit {
  key: string;
  tokenizer: TrainConfig['dataset']['tokenizer']['type'];
  state: unknown;
  extra?: unknown;
}

/**
 * Everything a fit depends on besides the training file: the task, its dataset settings, the model's, and
 * the versions of the other files it reads (a given vocabulary or label map, dataset.vocab.from).
 */
function fitKey(config: TrainConfig): string {
  const { dev: _dev, test: _test, streaming: _streaming, ...dataset } = config.dataset;
  const read = [givenVocabFile(config), dataset.label_map, dataset.vocab.from].flatMap((f) =>
    f !== undefined && existsSync(f) ? [{ f, ...fileStamp(f) }] : [],
  );
  return JSON.stringify({ task: config.task, dataset, model: config.model, read });
}

/** Why the training file of this task and these settings is read into memory (the task's own words, if any). */
function inMemoryReason(config: TrainConfig, offered: string | undefined | object): string {
  if (typeof offered === 'string') return offered;
  return `${config.task} reads its training file into memory`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
