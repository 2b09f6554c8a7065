/**
 * Text matching TSV files, in two formats:
 *   pointwise  `text_a<TAB>text_b<TAB>label`  (label 0/1 or a relevance score; no label for predict)
 *   pairwise   `query<TAB>positive<TAB>negative`  (training only: positive should rank above negative)
 * Pairwise training is usually evaluated on pointwise dev files, so readMatchingTsv can tell them apart.
 */
import { readLines } from '../line-reader.js';
import { parseNumber, readRecords, requireText, splitColumns } from './read-records.js';
import type { PairwiseExample, PointwiseExample, ReaderOptions, ReadResult } from './types.js';

export type MatchingFormat = 'pointwise' | 'pairwise';

export interface PointwiseReadOptions extends ReaderOptions {
  /** False for predict input: no label column. Default true. */
  labelled?: boolean;
}

export async function readPointwiseTsv(
  file: string,
  options: PointwiseReadOptions = {},
): Promise<ReadResult<PointwiseExample>> {
  const labelled = options.labelled ?? true;
  const columns = labelled ? ['text_a', 'text_b', 'label'] : ['text_a', 'text_b'];
  return readRecords(file, options, () => ({
    parse: (line) => {
      const [a, b, label] = splitColumns(file, line, columns);
      const example: PointwiseExample = {
        textA: requireText(file, line, 'text_a', a),
        textB: requireText(file, line, 'text_b', b),
        line: line.number,
      };
      if (labelled) example.score = parseNumber(file, line, 'label', label, 'a number (0/1 or a score)');
      return example;
    },
  }));
}

export async function readPairwiseTsv(
  file: string,
  options: ReaderOptions = {},
): Promise<ReadResult<PairwiseExample>> {
  return readRecords(file, options, () => ({
    parse: (line) => {
      const [query, positive, negative] = splitColumns(file, line, ['query', 'positive', 'negative']);
      return {
        query: requireText(file, line, 'query', query),
        positive: requireText(file, line, 'positive', positive),
        negative: requireText(file, line, 'negative', negative),
        line: line.number,
      };
    },
  }));
}

/**
 * Which format a labelled matching file is in, from its first line: three columns ending in a number are
 * pointwise, three columns ending in text are pairwise, anything else is left to the pointwise reader's
 * column check.
 */
export async function detectMatchingFormat(
  file: string,
  options: ReaderOptions = {},
): Promise<MatchingFormat> {
  for await (const line of readLines(file, { maxLineLength: options.maxLineLength })) {
    const fields = line.text.split('\t');
    const last = fields[fields.length - 1].trim();
    const numeric = last !== '' && Number.isFinite(Number(last));
    return fields.length === 3 && !numeric ? 'pairwise' : 'pointwise';
  }
  return 'pointwise'; // unreachable: readLines throws on an empty file
}

export type MatchingReadResult =
  | ({ format: 'pointwise' } & ReadResult<PointwiseExample>)
  | ({ format: 'pairwise' } & ReadResult<PairwiseExample>);

/** Reads a labelled matching file in whichever format it is in (see detectMatchingFormat). */
export async function readMatchingTsv(
  file: string,
  options: ReaderOptions = {},
): Promise<MatchingReadResult> {
  const format = await detectMatchingFormat(file, options);
  if (format === 'pairwise') return { format, ...(await readPairwiseTsv(file, options)) };
  return { format, ...(await readPointwiseTsv(file, options)) };
}
