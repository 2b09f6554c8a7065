/**
 * Text matching data, in two layouts:
 *   pointwise  `text_a`, `text_b`, `label` (0/1 or a relevance score; no label for predict)
 *   pairwise   `query`, `positive`, `negative` (training only: positive should rank above negative)
 * each as TSV columns in that order, CSV with a header, or JSON Lines keys. Pairwise training is usually
 * evaluated on pointwise dev files, so readMatchingFile can tell them apart.
 */
import { readLines } from '../line-reader.js';
import { readCsvRecords } from './csv-records.js';
import { dataFormatOf } from './data-format.js';
import { readTable, type TableSpec } from './read-table.js';
import type { PairwiseExample, PointwiseExample, ReaderOptions, ReadResult } from './types.js';

export type MatchingFormat = 'pointwise' | 'pairwise';

export interface PointwiseReadOptions extends ReaderOptions {
  /** False for predict input: no label column. Default true. */
  labelled?: boolean;
}

const POINTWISE_ALIASES = { text: 'text_a', text_pair: 'text_b', score: 'label' };

export async function readPointwiseFile(
  file: string,
  options: PointwiseReadOptions = {},
): Promise<ReadResult<PointwiseExample>> {
  return readTable(file, options, pointwiseTable(options.labelled ?? true));
}

/** How a pointwise record becomes an example, in every format (see readTable). */
export function pointwiseTable(labelled: boolean): TableSpec<PointwiseExample> {
  return {
    columns: labelled ? ['text_a', 'text_b', 'label'] : ['text_a', 'text_b'],
    aliases: POINTWISE_ALIASES,
    parse: (record) => {
      const example: PointwiseExample = {
        textA: record.text('text_a'),
        textB: record.text('text_b'),
        line: record.line,
      };
      if (labelled) example.score = record.number('label', 'a number (0/1 or a score)');
      return example;
    },
  };
}

export async function readPairwiseFile(
  file: string,
  options: ReaderOptions = {},
): Promise<ReadResult<PairwiseExample>> {
  return readTable(file, options, pairwiseTable());
}

/** How a pairwise record becomes an example, in every format (see readTable). */
export function pairwiseTable(): TableSpec<PairwiseExample> {
  return {
    columns: ['query', 'positive', 'negative'],
    parse: (record) => ({
      query: record.text('query'),
      positive: record.text('positive'),
      negative: record.text('negative'),
      line: record.line,
    }),
  };
}

/**
 * Which layout a labelled matching file is in. CSV and JSON Lines say it by their field names (`positive`
 * and `negative` are pairwise); a TSV file by its first line: three columns ending in a number are
 * pointwise, three columns ending in text are pairwise, anything else is left to the pointwise reader.
 */
export async function detectMatchingFormat(
  file: string,
  options: ReaderOptions = {},
): Promise<MatchingFormat> {
  const format = dataFormatOf(file, options.format);
  if (format === 'csv') {
    for await (const { fields } of readCsvRecords(file, options))
      return pairwiseNames(fields.map((f) => f.trim()));
  }
  for await (const line of readLines(file, { maxLineLength: options.maxLineLength })) {
    if (format === 'jsonl') {
      try {
        return pairwiseNames(Object.keys(JSON.parse(line.text) as object));
      } catch {
        return 'pointwise'; // the pointwise reader reports the bad line
      }
    }
    const fields = line.text.split('\t');
    const last = fields[fields.length - 1].trim();
    const numeric = last !== '' && Number.isFinite(Number(last));
    return fields.length === 3 && !numeric ? 'pairwise' : 'pointwise';
  }
  return 'pointwise'; // unreachable: readLines throws on an empty file
}

function pairwiseNames(names: string[]): MatchingFormat {
  return names.includes('positive') && names.includes('negative') ? 'pairwise' : 'pointwise';
}

export type MatchingReadResult =
  | ({ format: 'pointwise' } & ReadResult<PointwiseExample>)
  | ({ format: 'pairwise' } & ReadResult<PairwiseExample>);

/** Reads a labelled matching file in whichever layout it is in (see detectMatchingFormat). */
export async function readMatchingFile(
  file: string,
  options: ReaderOptions = {},
): Promise<MatchingReadResult> {
  const format = await detectMatchingFormat(file, options);
  if (format === 'pairwise') return { format, ...(await readPairwiseFile(file, options)) };
  return { format, ...(await readPointwiseFile(file, options)) };
}
