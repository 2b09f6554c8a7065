/**
 * Reads a data file in any of the three table formats into examples, through one parse function per
 * task that sees named fields (FieldRecord): TSV columns named by their position, CSV columns named by
 * the header row (required: RFC 4180 files carry one), JSON Lines keys. Unknown CSV columns and JSON keys
 * are ignored, so files with an `id` or a `source` column load as they are.
 */
import type { Line } from '../line-reader.js';
import { readLines } from '../line-reader.js';
import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import { InputError } from '../../util/errors.js';
import { readCsvRecords, type CsvRecord } from './csv-records.js';
import { dataFormatOf } from './data-format.js';
import { FieldRecord, type FieldValue } from './field-record.js';
import { parseJsonText } from './json-position.js';
import {
  collectExamples,
  lineOptions,
  readRecords,
  splitColumns,
  type RecordParser,
} from './read-records.js';
import type { ReaderOptions, ReadResult } from './types.js';

export interface TableSpec<T> {
  /** The fields, in TSV column order; CSV headers and JSON keys use these names or an alias. */
  columns: readonly string[];
  /** Other spellings of a field in CSV headers and JSON keys (`text_a` → `text`, say). */
  aliases?: Readonly<Record<string, string>>;
  /** Fields a record may leave out (CSV: a column the header may lack); `parse` checks `record.has`. */
  optional?: readonly string[];
  parse: (record: FieldRecord) => T;
  /** TSV only: a line parser of the reader's own (for an optional header row); default fixed columns. */
  tsv?: (first: Line) => RecordParser<T>;
}

export async function readTable<T>(
  file: string,
  options: ReaderOptions,
  spec: TableSpec<T>,
): Promise<ReadResult<T>> {
  switch (dataFormatOf(file, options.format)) {
    case 'tsv':
      return readRecords(
        file,
        options,
        spec.tsv ?? (() => ({ parse: (line) => spec.parse(tsvRecord(file, line, spec.columns)) })),
      );
    case 'csv':
      return readCsvTable(file, options, spec);
    case 'jsonl':
      return readJsonlTable(file, options, spec);
  }
}

/**
 * The parser readTable would apply to each record of `file` after `first` (the file's first line, a header
 * row or not): for reading single records again at their byte ranges (a streamed data set). A CSV
 * record's text may hold quoted line breaks; it is parsed on its own, against the header row of `first`.
 */
export function tableLineParser<T>(
  file: string,
  options: ReaderOptions,
  spec: TableSpec<T>,
  first: Line,
): (line: Line) => T {
  switch (dataFormatOf(file, options.format)) {
    case 'tsv': {
      const parser = spec.tsv?.(first) ?? {
        parse: (line: Line) => spec.parse(tsvRecord(file, line, spec.columns)),
      };
      parser.header?.(first);
      return (line) => parser.parse(line);
    }
    case 'jsonl':
      return (line) => spec.parse(jsonRecord(file, line, spec));
    case 'csv': {
      const header = csvHeader(file, { line: 1, fields: csvFields(file, first) }, spec);
      return (line) => spec.parse(csvRow(file, header, { line: line.number, fields: csvFields(file, line) }));
    }
  }
}

/** The fields of one CSV record's text (a header line, or a record read again at its byte range). */
function csvFields(file: string, line: Line): string[] {
  let records: string[][];
  try {
    records = parseCsv(line.text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const why = line.number === 1 ? ' (a header row cannot span lines in a streamed file)' : '';
    throw new InputError(
      { file, line: line.number },
      `CSV: ${error.message.replace(/ at line \d+.*/, '')}${why}`,
    );
  }
  if (records.length !== 1)
    throw new InputError({ file, line: line.number }, `CSV: expected one record, found ${records.length}`);
  return records[0];
}

/** A TSV line as a record of `columns`, after the column-count check. */
export function tsvRecord(file: string, line: Line, columns: readonly string[]): FieldRecord {
  const fields = splitColumns(file, line, columns);
  return new FieldRecord(
    file,
    line.number,
    new Map(columns.map((c, i) => [c, { name: c, value: fields[i] }])),
  );
}

/** The reader's key for a header name or JSON key, or undefined for a field it does not read. */
function keyOf(name: string, spec: TableSpec<unknown>): string | undefined {
  const known = (key: string) => spec.columns.includes(key) || spec.optional?.includes(key) === true;
  const key = known(name) ? name : spec.aliases?.[name];
  return key !== undefined && known(key) ? key : undefined;
}

async function readCsvTable<T>(
  file: string,
  options: ReaderOptions,
  spec: TableSpec<T>,
): Promise<ReadResult<T>> {
  let header: CsvHeader | undefined;
  return collectExamples<CsvRecord, T>(
    file,
    options,
    (onBadLine) =>
      readCsvRecords(file, {
        maxLineLength: options.maxLineLength,
        onBadLine,
        offsets: options.each !== undefined,
      }),
    {
      first: (record) => {
        header = csvHeader(file, record, spec);
        return true;
      },
      parse: (record) => spec.parse(csvRow(file, header!, record)),
    },
  );
}

/** A CSV file's header row: its column names and the reader's key for each (undefined: a column not read). */
interface CsvHeader {
  names: string[];
  keys: (string | undefined)[];
}

/** A CSV record (after the header) as named fields, after the field-count check. */
function csvRow(file: string, { names, keys }: CsvHeader, { line, fields }: CsvRecord): FieldRecord {
  if (fields.length !== names.length) {
    throw new InputError(
      { file, line },
      `expected ${names.length} fields, as in the header (${names.join(', ')}), found ${fields.length}` +
        (fields.length > names.length ? ' (is there a comma inside an unquoted text? quote the text)' : ''),
    );
  }
  const values = new Map<string, FieldValue>();
  keys.forEach((key, i) => {
    if (key !== undefined) values.set(key, { name: names[i], value: fields[i] });
  });
  return new FieldRecord(file, line, values);
}

function csvHeader(file: string, record: CsvRecord, spec: TableSpec<unknown>): CsvHeader {
  const where = (field: string) => ({ file, line: record.line, field });
  const names = record.fields.map((f) => f.trim());
  const keys = names.map((name) => keyOf(name, spec));
  if (keys.every((key) => key === undefined)) {
    throw new InputError(
      where('header'),
      `a CSV file starts with a header row naming its columns (${spec.columns.join(', ')}); ` +
        `this one starts with ${names.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  keys.forEach((key, i) => {
    if (key !== undefined && keys.indexOf(key) !== i) {
      throw new InputError(
        where(names[i]),
        `column appears twice in the header (also as ${names[keys.indexOf(key)]})`,
      );
    }
  });
  for (const column of spec.columns) {
    if (!keys.includes(column)) {
      throw new InputError(where(column), `column missing from the header (it has ${names.join(', ')})`);
    }
  }
  return { names, keys };
}

async function readJsonlTable<T>(
  file: string,
  options: ReaderOptions,
  spec: TableSpec<T>,
): Promise<ReadResult<T>> {
  return collectExamples<Line, T>(
    file,
    options,
    (onBadLine) => readLines(file, lineOptions(options, onBadLine)),
    { parse: (line) => spec.parse(jsonRecord(file, line, spec)) },
  );
}

function jsonRecord(file: string, line: Line, spec: TableSpec<unknown>): FieldRecord {
  let value: unknown;
  try {
    value = parseJsonText(line.text, file);
  } catch (error) {
    // parseJsonText counts lines within the text it is given: one line here.
    if (!(error instanceof InputError)) throw error;
    throw new InputError({ file, line: line.number }, error.problem);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(
      { file, line: line.number },
      `each line must be a JSON object with the fields ${spec.columns.join(', ')}`,
    );
  }
  const values = new Map<string, FieldValue>();
  for (const [name, field] of Object.entries(value)) {
    const key = keyOf(name, spec);
    if (key === undefined) continue;
    const twin = values.get(key);
    if (twin)
      throw new InputError({ file, line: line.number, field: name }, `given twice (also as ${twin.name})`);
    values.set(key, { name, value: field });
  }
  return new FieldRecord(file, line.number, values);
}
