/**
 * The examples each task reads, as plain data. `line` is the 1-based line of the source file, kept so
 * that errors found later (a label missing from the label map, a text too long) can still name it;
 * examples built from a corpus have an `id` instead.
 */
import type { DataFormat } from './data-format.js';

/** Single-label, pair and multi-label classification (text_classification, text_pair_classification, ...). */
export interface ClassificationExample {
  text: string;
  /** The second text of a pair task. */
  textB?: string;
  /** Single-label tasks: the label name (absent in unlabelled files). */
  label?: string;
  /** Multi-label tasks: the label names (absent in unlabelled files). */
  labels?: string[];
  /** The config's numeric_features, by name. */
  features?: Record<string, number>;
  line?: number;
  id?: string;
}

/** Sequence labelling: one tag per token. */
export interface SequenceExample {
  tokens: string[];
  tags?: string[];
  line?: number;
  id?: string;
}

/** Text matching, pointwise: a pair and its relevance (0/1 or a score). */
export interface PointwiseExample {
  textA: string;
  textB: string;
  score?: number;
  line?: number;
}

/** Text matching, pairwise: a query, a better and a worse candidate. */
export interface PairwiseExample {
  query: string;
  positive: string;
  negative: string;
  line?: number;
}

/** An answer span; `start` is a JavaScript string index (UTF-16 code units) into the context. */
export interface AnswerSpan {
  text: string;
  start: number;
}

/** Extractive reading comprehension (SQuAD / DuReader). */
export interface ReadingComprehensionExample {
  id: string;
  question: string;
  context: string;
  answers: AnswerSpan[];
  isImpossible: boolean;
  title?: string;
}

/** Sequence-to-sequence generation. */
export interface GenerationExample {
  source: string;
  target?: string;
  line?: number;
  id?: string;
}

/** Language modelling: one text. */
export interface TextExample {
  text: string;
  line?: number;
  id?: string;
}

export interface ReaderOptions {
  /** The format of a file whose extension is not .tsv, .csv or .jsonl (dataset.format); default TSV. */
  format?: DataFormat;
  /** Leave out bad lines (each reported to onWarning and counted) instead of stopping at the first. */
  skipBadLines?: boolean;
  onWarning?: (message: string) => void;
  /** Longest line accepted, in characters; default 1 MiB. */
  maxLineLength?: number;
  /**
   * Hands each example to this callback, with where it was found, instead of collecting them: the result's
   * `examples` stays empty, so a file of any size is read in bounded memory (a streamed data set's pass).
   */
  each?: (example: never, place: RecordPlace) => void;
}

/** Where an example was read: its first line and, for line-per-record formats, its byte range. */
export interface RecordPlace {
  line: number;
  offset?: number;
  end?: number;
}

export interface ReadResult<T> {
  /** Empty when ReaderOptions.each took the examples. */
  examples: T[];
  /** Bad lines (or bad questions, for JSON) left out because of skipBadLines. */
  skipped: number;
}
