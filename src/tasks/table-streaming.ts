/**
 * Streaming for every task whose examples are table records (TSV lines, CSV records, JSON Lines objects):
 * the task gives the TableSpec its `read` uses and a one-example-at-a-time fitter, and this makes the
 * StreamingSupport the streamed pipeline (train/streamed-train-data.ts) drives — the indexing pass reads
 * the file through readTable exactly as `read` does (same checks, same bad-line policy), and each batch
 * is parsed again, record by record, by the same spec. One helper, so that no task has a streaming reader
 * of its own that could drift from its in-memory one; and `fit` in memory goes through the same fitter.
 */
import type { TrainConfig } from '../config/run-config.js';
import type { Line } from '../data/line-reader.js';
import { readTable, tableLineParser, type TableSpec } from '../data/readers/read-table.js';
import { readerOptions, warnSkipped } from './dataset-options.js';
import type { StreamingFitter, StreamingSupport } from './task.js';

export interface TableStreaming<E> {
  /** The spec the task's `read` reads `file` with (labelled); may look at the file first (a layout to detect). */
  spec(file: string): TableSpec<E> | Promise<TableSpec<E>>;
  fitter: StreamingSupport<E>['fitter'];
  fitExtra?: StreamingSupport<E>['fitExtra'];
  restore: StreamingSupport<E>['restore'];
  /** What the task's `read` does to each parsed example besides parsing it (e.g. note its file). */
  complete?(example: E, file: string): E;
}

export function tableStreaming<E>(config: TrainConfig, task: TableStreaming<E>): StreamingSupport<E> {
  const complete = task.complete ?? ((e: E) => e);
  const options = readerOptions(config, undefined);
  return {
    readEach: async (file, onExample) => {
      const each = (example: E, place: Parameters<typeof onExample>[1]) =>
        onExample(complete(example, file), place);
      const { skipped } = await readTable(file, { ...options, each: each as never }, await task.spec(file));
      warnSkipped(file, skipped);
    },
    lineParser: async (file, first) => {
      const parse = tableLineParser(file, options, await task.spec(file), first);
      return (line: Line) => complete(parse(line), file);
    },
    fitter: (vocabFromOtherFile) => task.fitter(vocabFromOtherFile),
    fitExtra: task.fitExtra && (() => task.fitExtra!()),
    restore: (saved) => task.restore(saved),
  };
}

/** `fit` over examples in memory, through the same one-at-a-time fitter a streamed pass uses. */
export function fitExamples<E>(
  fitter: StreamingFitter<E>,
  train: readonly E[],
  vocabSource?: readonly E[],
): void {
  vocabSource?.forEach((e) => fitter.vocab(e));
  for (const e of train) fitter.add(e);
  fitter.finish();
}
