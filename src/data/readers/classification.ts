/**
 * Classification files:
 *   single-label   `text<TAB>label`
 *   pair           `text_a<TAB>text_b<TAB>label`
 *   multi-label    `text<TAB>label label ...` (labels separated by spaces; names or ids)
 * Unlabelled files (for predict) have the text columns only. With numeric_features the first line must be
 * a header naming every column (`text_a`, `text_b` for pairs, `label`, and each feature) in any order;
 * without them a header row is optional and recognised when every field is a known column name.
 * CSV files name the same columns in their header; JSON Lines files use them as keys
 * (`{"text": …, "label": …}`, `{"text_a": …, "text_b": …, "label": …}`, a multi-label `"label"` may be a
 * list), with `text_pair` accepted for `text_b` as Hugging Face spells it.
 */
import type { Line } from '../line-reader.js';
import { InputError, UserError } from '../../util/errors.js';
import { FieldRecord } from './field-record.js';
import { splitColumns, type RecordParser } from './read-records.js';
import { readTable, type TableSpec } from './read-table.js';
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

export async function readClassificationFile(
  file: string,
  options: ClassificationReadOptions = {},
): Promise<ReadResult<ClassificationExample>> {
  return readTable(file, options, classificationTable(file, options));
}

/** How a classification file's fields become an example, in every format (see readTable). */
export function classificationTable(
  file: string,
  options: ClassificationReadOptions = {},
): TableSpec<ClassificationExample> {
  const kind = options.kind ?? 'single';
  const labelled = options.labelled ?? true;
  const features = options.numericFeatures ?? [];
  checkFeatureNames(features);
  const parse = (record: FieldRecord) => parseExample(record, kind, labelled, features);
  return {
    // Keyed by role, so that one parse serves every format (features keep their own names).
    columns: [
      ...(kind === 'pair' ? ['text', 'text_b'] : ['text']),
      ...(labelled ? ['label'] : []),
      ...features,
    ],
    aliases: { text_a: 'text', text_pair: 'text_b', labels: 'label' },
    parse,
    tsv: (first) => {
      const fields = first.text.split('\t');
      const hasHeader = features.length > 0 || fields.every((f) => HEADER_ALIASES.has(f.trim()));
      let columns = hasHeader ? [] : defaultColumns(kind, labelled);
      const parser: RecordParser<ClassificationExample> = {
        parse: (line) => parse(tsvRecord(file, line, columns)),
      };
      if (hasHeader) {
        parser.header = (line) => {
          columns = headerColumns(file, line, kind, labelled, features);
        };
      }
      return parser;
    },
  };
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

/** A TSV line of `columns` as a record keyed by role (features by name), fields named as the file does. */
function tsvRecord(file: string, line: Line, columns: Column[]): FieldRecord {
  const fields = splitColumns(
    file,
    line,
    columns.map((c) => c.name),
  );
  const key = (c: Column) => (c.role === 'feature' ? c.name : c.role);
  return new FieldRecord(
    file,
    line.number,
    new Map(columns.map((c, i) => [key(c), { name: c.name, value: fields[i] }])),
  );
}

function parseExample(
  record: FieldRecord,
  kind: ClassificationKind,
  labelled: boolean,
  features: readonly string[],
): ClassificationExample {
  const example: ClassificationExample = { text: record.text('text'), line: record.line };
  if (kind === 'pair') example.textB = record.text('text_b');
  if (labelled) {
    if (kind === 'multi_label') example.labels = parseLabels(record);
    else example.label = record.label('label');
  }
  for (const name of features) (example.features ??= {})[name] = record.number(name);
  return example;
}

/** Multi-label: a list, or space-separated names or ids, each once. */
function parseLabels(record: FieldRecord): string[] {
  const labels = record.list('label');
  const seen = new Set<string>();
  for (const label of labels) {
    if (seen.has(label))
      throw record.error(record.nameOf('label'), `${JSON.stringify(label)} is listed twice`);
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
