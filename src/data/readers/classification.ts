/**
 * Classification TSV files:
 *   single-label   `text<TAB>label`
 *   pair           `text_a<TAB>text_b<TAB>label`
 *   multi-label    `text<TAB>label label ...` (labels separated by spaces; names or ids)
 * Unlabelled files (for predict) have the text columns only. With numeric_features the first line must be
 * a header naming every column (`text_a`, `text_b` for pairs, `label`, and each feature) in any order;
 * without them a header row is optional and recognised when every field is a known column name.
 */
import type { Line } from '../line-reader.js';
import { InputError, UserError } from '../../util/errors.js';
import { parseNumber, readRecords, requireText, splitColumns, type RecordParser } from './read-records.js';
import type { ClassificationExample, ReaderOptions, ReadResult } from './types.js';

export type ClassificationKind = 'single' | 'pair' | 'multi_label';

export interface ClassificationReadOptions extends ReaderOptions {
  /** Default 'single'. */
  kind?: ClassificationKind;
  /** False for predict input: no label column. Default true. */
  labelled?: boolean;
  /** The config's dataset.numeric_features; a header row is then required. */
  numericFeatures?: readonly string[];
}

type Role = 'text' | 'text_b' | 'label' | 'feature';

interface Column {
  name: string;
  role: Role;
}

/** Header names accepted for each role; `text` and `labels` are common spellings of `text_a` and `label`. */
const HEADER_ALIASES = new Map<string, Role>([
  ['text_a', 'text'],
  ['text', 'text'],
  ['text_b', 'text_b'],
  ['label', 'label'],
  ['labels', 'label'],
]);

export async function readClassificationTsv(
  file: string,
  options: ClassificationReadOptions = {},
): Promise<ReadResult<ClassificationExample>> {
  const kind = options.kind ?? 'single';
  const labelled = options.labelled ?? true;
  const features = options.numericFeatures ?? [];
  checkFeatureNames(features);
  return readRecords(file, options, (first) => {
    const fields = first.text.split('\t');
    const hasHeader = features.length > 0 || fields.every((f) => HEADER_ALIASES.has(f.trim()));
    let columns = hasHeader ? [] : defaultColumns(kind, labelled);
    const parser: RecordParser<ClassificationExample> = {
      parse: (line) => parseExample(file, line, columns, kind),
    };
    if (hasHeader) {
      parser.header = (line) => {
        columns = headerColumns(file, line, kind, labelled, features);
      };
    }
    return parser;
  });
}

function defaultColumns(kind: ClassificationKind, labelled: boolean): Column[] {
  const columns: Column[] =
    kind === 'pair'
      ? [
          { name: 'text_a', role: 'text' },
          { name: 'text_b', role: 'text_b' },
        ]
      : [{ name: 'text', role: 'text' }];
  if (labelled) columns.push({ name: 'label', role: 'label' });
  return columns;
}

/** Maps the header's column names to roles, requiring every column the task needs and nothing else. */
function headerColumns(
  file: string,
  line: Line,
  kind: ClassificationKind,
  labelled: boolean,
  features: readonly string[],
): Column[] {
  const where = (field: string) => ({ file, line: line.number, field });
  const expected = defaultColumns(kind, labelled)
    .map((c) => c.name)
    .concat(features);
  const names = line.text.split('\t').map((f) => f.trim());
  if (!names.some((name) => HEADER_ALIASES.has(name) || features.includes(name))) {
    throw new InputError(
      where('header'),
      `line 1 must be a header row naming the columns (${expected.join(', ')}), since numeric_features are set`,
    );
  }
  const columns: Column[] = [];
  for (const name of names) {
    const role: Role | undefined = features.includes(name) ? 'feature' : HEADER_ALIASES.get(name);
    if (role === undefined || (role === 'text_b' && kind !== 'pair') || (role === 'label' && !labelled)) {
      throw new InputError(
        where(name === '' ? 'header' : name),
        `unexpected column ${JSON.stringify(name)} in the header (expected columns: ${expected.join(', ')})`,
      );
    }
    const twin = columns.find((c) => c.name === name || (c.role === role && role !== 'feature'));
    if (twin) throw new InputError(where(name), `column appears twice in the header`);
    columns.push({ name, role });
  }
  for (const need of expected) {
    const role = features.includes(need) ? 'feature' : HEADER_ALIASES.get(need);
    if (!columns.some((c) => (role === 'feature' ? c.name === need : c.role === role))) {
      const why = features.length > 0 ? ' (numeric_features need a header row naming every column)' : '';
      throw new InputError(where(need), `column missing from the header${why}`);
    }
  }
  return columns;
}

function parseExample(
  file: string,
  line: Line,
  columns: Column[],
  kind: ClassificationKind,
): ClassificationExample {
  const fields = splitColumns(
    file,
    line,
    columns.map((c) => c.name),
  );
  const example: ClassificationExample = { text: '', line: line.number };
  columns.forEach((column, i) => {
    const value = fields[i];
    switch (column.role) {
      case 'text':
        example.text = requireText(file, line, column.name, value);
        break;
      case 'text_b':
        example.textB = requireText(file, line, column.name, value);
        break;
      case 'label':
        if (kind === 'multi_label') example.labels = parseLabels(file, line, column.name, value);
        else example.label = requireText(file, line, column.name, value).trim();
        break;
      case 'feature':
        (example.features ??= {})[column.name] = parseNumber(file, line, column.name, value);
        break;
    }
  });
  return example;
}

/** Multi-label: space-separated names or ids, each once. */
function parseLabels(file: string, line: Line, field: string, value: string): string[] {
  const labels = requireText(file, line, field, value).trim().split(/ +/);
  const seen = new Set<string>();
  for (const label of labels) {
    if (seen.has(label)) {
      throw new InputError({ file, line: line.number, field }, `${JSON.stringify(label)} is listed twice`);
    }
    seen.add(label);
  }
  return labels;
}

function checkFeatureNames(features: readonly string[]): void {
  for (const name of features) {
    if (HEADER_ALIASES.has(name) || name.trim() !== name || name === '' || name.includes('\t')) {
      throw new UserError(`numeric_features: ${JSON.stringify(name)} is blank or clashes with a column name`);
    }
  }
}
