/**
 * Generation data (`source`, `target`; the source alone for predict) as TSV (`source<TAB>target`), CSV
 * with a header or JSON Lines (`{"source": …, "target": …}`), and language-model text: one text per line
 * (a `<s> ... <e>` frame around the line, as some corpora ship it, is removed), or a `text` column/key
 * of a CSV or JSON Lines file.
 */
import { InputError } from '../../util/errors.js';
import { readTable, type TableSpec } from './read-table.js';
import type { GenerationExample, ReaderOptions, ReadResult, TextExample } from './types.js';

export interface GenerationReadOptions extends ReaderOptions {
  /** False for predict input: no target column. Default true. */
  labelled?: boolean;
}

export async function readGenerationFile(
  file: string,
  options: GenerationReadOptions = {},
): Promise<ReadResult<GenerationExample>> {
  return readTable(file, options, generationTable(options.labelled ?? true));
}

/** How a generation record becomes an example, in every format (see readTable). */
export function generationTable(labelled: boolean): TableSpec<GenerationExample> {
  return {
    columns: labelled ? ['source', 'target'] : ['source'],
    parse: (record) => {
      const example: GenerationExample = { source: record.text('source'), line: record.line };
      if (labelled) example.target = record.text('target');
      return example;
    },
  };
}

const START = '<s>';
const END = '<e>';

export async function readLanguageModelText(
  file: string,
  options: ReaderOptions = {},
): Promise<ReadResult<TextExample>> {
  return readTable(file, options, languageModelTable(file));
}

/** How language-model text becomes examples: a TSV (plain text) line is one text, its frame removed. */
export function languageModelTable(file: string): TableSpec<TextExample> {
  return {
    columns: ['text'],
    parse: (record) => ({ text: record.text('text'), line: record.line }),
    tsv: () => ({
      parse: (line) => {
        const text = stripFrame(line.text);
        if (text === '') {
          throw new InputError(
            { file, line: line.number, field: 'text' },
            `nothing between ${START} and ${END}`,
          );
        }
        return { text, line: line.number };
      },
    }),
  };
}

/** Removes a leading `<s>` and a trailing `<e>` (each optional) and the spaces next to them. */
export function stripFrame(text: string): string {
  let s = text.trim();
  if (s.startsWith(START)) s = s.slice(START.length);
  if (s.endsWith(END)) s = s.slice(0, s.length - END.length);
  return s.trim();
}
