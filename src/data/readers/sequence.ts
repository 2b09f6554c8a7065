/**
 * Sequence labelling data, one tag per token:
 *   TSV         `tok tok tok<TAB>tag tag tag`
 *   CSV         header `tokens,tags`, the same space-separated fields
 *   JSON Lines  `{"tokens": ["tok", …], "tags": ["tag", …]}` (or space-separated strings)
 * Space-separated tokens and tags are split on \u0002 instead when the field contains one (the PaddleNLP
 * NER format, where tokens may hold spaces). Unlabelled files (for predict) have the tokens only.
 */
import type { FieldRecord } from './field-record.js';
import { readTable, type TableSpec } from './read-table.js';
import type { ReaderOptions, ReadResult, SequenceExample } from './types.js';

export interface SequenceReadOptions extends ReaderOptions {
  /** False for predict input: no tag column. Default true. */
  labelled?: boolean;
}

export async function readSequenceFile(
  file: string,
  options: SequenceReadOptions = {},
): Promise<ReadResult<SequenceExample>> {
  return readTable(file, options, sequenceTable(options.labelled ?? true));
}

/** How a sequence record becomes an example, in every format (see readTable). */
export function sequenceTable(labelled: boolean): TableSpec<SequenceExample> {
  return {
    columns: labelled ? ['tokens', 'tags'] : ['tokens'],
    aliases: { words: 'tokens', labels: 'tags' },
    parse: (record) => parseSequence(record, labelled),
  };
}

function parseSequence(record: FieldRecord, labelled: boolean): SequenceExample {
  const tokens = record.list('tokens');
  if (!labelled) return { tokens, line: record.line };
  const tags = record.list('tags');
  if (tags.length !== tokens.length) {
    const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
    throw record.error(
      record.nameOf('tags'),
      `${count(tokens.length, 'token')} but ${count(tags.length, 'tag')}`,
    );
  }
  return { tokens, tags, line: record.line };
}
