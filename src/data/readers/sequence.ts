/**
 * Sequence labelling TSV: `tok tok tok<TAB>tag tag tag`, one tag per token. Tokens and tags are separated
 * by spaces, or by \u0002 when the field contains one (the PaddleNLP NER format, where tokens may hold
 * spaces). Unlabelled files (for predict) have the token column only.
 */
import type { Line } from '../line-reader.js';
import { InputError } from '../../util/errors.js';
import { readRecords, requireText, splitColumns } from './read-records.js';
import type { ReaderOptions, ReadResult, SequenceExample } from './types.js';

export interface SequenceReadOptions extends ReaderOptions {
  /** False for predict input: no tag column. Default true. */
  labelled?: boolean;
}

export async function readSequenceTsv(
  file: string,
  options: SequenceReadOptions = {},
): Promise<ReadResult<SequenceExample>> {
  const labelled = options.labelled ?? true;
  const columns = labelled ? ['tokens', 'tags'] : ['tokens'];
  return readRecords(file, options, () => ({
    parse: (line) => {
      const fields = splitColumns(file, line, columns);
      const tokens = splitItems(file, line, 'tokens', fields[0]);
      if (!labelled) return { tokens, line: line.number };
      const tags = splitItems(file, line, 'tags', fields[1]);
      if (tags.length !== tokens.length) {
        throw new InputError(
          { file, line: line.number, field: 'tags' },
          `${tokens.length} ${tokens.length === 1 ? 'token' : 'tokens'} but ${tags.length} ${tags.length === 1 ? 'tag' : 'tags'}`,
        );
      }
      return { tokens, tags, line: line.number };
    },
  }));
}

function splitItems(file: string, line: Line, field: string, value: string): string[] {
  requireText(file, line, field, value);
  if (value.includes('\u0002')) return value.split('\u0002');
  return value.trim().split(/ +/);
}
