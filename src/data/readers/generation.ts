/**
 * Generation TSV (`source<TAB>target`, or `source` alone for predict) and language-model text (one text
 * per line; a `<s> ... <e>` frame around the line, as some corpora ship it, is removed).
 */
import { InputError } from '../../util/errors.js';
import { readRecords, requireText, splitColumns } from './read-records.js';
import type { GenerationExample, ReaderOptions, ReadResult, TextExample } from './types.js';

export interface GenerationReadOptions extends ReaderOptions {
  /** False for predict input: no target column. Default true. */
  labelled?: boolean;
}

export async function readGenerationTsv(
  file: string,
  options: GenerationReadOptions = {},
): Promise<ReadResult<GenerationExample>> {
  const labelled = options.labelled ?? true;
  const columns = labelled ? ['source', 'target'] : ['source'];
  return readRecords(file, options, () => ({
    parse: (line) => {
      const [source, target] = splitColumns(file, line, columns);
      const example: GenerationExample = {
        source: requireText(file, line, 'source', source),
        line: line.number,
      };
      if (labelled) example.target = requireText(file, line, 'target', target);
      return example;
    },
  }));
}

const START = '<s>';
const END = '<e>';

export async function readLanguageModelText(
  file: string,
  options: ReaderOptions = {},
): Promise<ReadResult<TextExample>> {
  return readRecords(file, options, () => ({
    parse: (line) => {
      const text = stripFrame(line.text);
      if (text === '') {
        throw new InputError({ file, line: line.number }, `nothing between ${START} and ${END}`);
      }
      return { text, line: line.number };
    },
  }));
}

/** Removes a leading `<s>` and a trailing `<e>` (each optional) and the spaces next to them. */
export function stripFrame(text: string): string {
  let s = text.trim();
  if (s.startsWith(START)) s = s.slice(START.length);
  if (s.endsWith(END)) s = s.slice(0, s.length - END.length);
  return s.trim();
}
