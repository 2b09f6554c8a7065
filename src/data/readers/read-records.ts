/**
 * The loop every reader shares (read items, parse each into an example, and either stop at the first bad
 * one or, with skipBadLines, count it and warn), and the field checks of the TSV readers.
 */
import { readLines, type Line, type LineReaderOptions } from '../line-reader.js';
import { InputError, UserError } from '../../util/errors.js';
import { otherFormatHint } from './data-format.js';
import type { ReaderOptions, ReadResult, RecordPlace } from './types.js';

export interface RecordParser<T> {
  /** Reads the header row, when the file has one; its errors always stop reading. */
  header?: (line: Line) => void;
  /** Parses one line; throws InputError for a bad line. */
  parse: (line: Line) => T;
}

export async function readRecords<T>(
  file: string,
  options: ReaderOptions,
  makeParser: (firstLine: Line) => RecordParser<T>,
): Promise<ReadResult<T>> {
  let parser: RecordParser<T> | undefined;
  return collectExamples(
    file,
    options,
    (onBadLine) => readLines(file, lineOptions(options, onBadLine)),
    {
      first: (line) => {
        parser = makeParser(line);
        parser.header?.(line);
        return parser.header !== undefined;
      },
      parse: (line) => parser!.parse(line),
    },
  );
}

/** readLines' options for a reader: byte ranges only when the examples go to `each` (a streamed pass). */
export function lineOptions(
  options: ReaderOptions,
  onBadLine: ((error: InputError) => void) | undefined,
): LineReaderOptions {
  return { maxLineLength: options.maxLineLength, onBadLine, offsets: options.each !== undefined };
}

/**
 * The loop every reader shares, whatever its format: the first item may be a header (`first` says so;
 * its errors always stop reading), every other item is parsed into an example, and a bad one either
 * stops reading or (skipBadLines) is counted and reported. `items` gets the bad-item callback to use
 * for problems found before parsing (invalid UTF-8, a blank line in the middle).
 */
export async function collectExamples<R extends Line | RecordPlace, T>(
  file: string,
  options: ReaderOptions,
  items: (onBadLine: ((error: InputError) => void) | undefined) => AsyncIterable<R>,
  parser: { first?: (item: R) => boolean; parse: (item: R) => T },
): Promise<ReadResult<T>> {
  const examples: T[] = [];
  const each = options.each as ((example: T, place: RecordPlace) => void) | undefined;
  let count = 0;
  let skipped = 0;
  const skip = options.skipBadLines === true;
  const report = (error: InputError): void => {
    skipped++;
    options.onWarning?.(`${error.message} (line skipped)`);
  };
  let first = true;
  for await (const item of items(skip ? report : undefined)) {
    if (first) {
      first = false;
      if (parser.first?.(item)) continue;
    }
    let example: T;
    try {
      example = parser.parse(item);
    } catch (error) {
      if (skip && error instanceof InputError) {
        report(error);
        continue;
      }
      throw error;
    }
    count++;
    if (each) each(example, placeOf(item));
    else examples.push(example);
  }
  if (count === 0) {
    const why =
      skipped > 0 ? `all ${skipped} lines were bad and skipped` : 'it has a header row but no examples';
    throw new UserError(`${file}: no examples: ${why}`);
  }
  return { examples, skipped };
}

function placeOf(item: Line | RecordPlace): RecordPlace {
  if ('line' in item) return { line: item.line, offset: item.offset, end: item.end };
  return { line: item.number, offset: item.offset, end: item.end };
}

/** Splits a TSV line and checks the column count, naming the expected columns in the error. */
export function splitColumns(file: string, line: Line, expected: readonly string[]): string[] {
  const fields = line.text.split('\t');
  if (fields.length !== expected.length) {
    const plural = expected.length === 1 ? 'column' : 'columns';
    const hint =
      otherFormatHint(line.text) ||
      (fields.length > expected.length ? ' (is there a tab inside a text?)' : '');
    throw new InputError(
      { file, line: line.number },
      `expected ${expected.length} ${plural} (${expected.join(', ')}), found ${fields.length}${hint}`,
    );
  }
  return fields;
}

/** A text field must hold something other than spaces. */
export function requireText(file: string, line: Line, field: string, value: string): string {
  if (value.trim() === '') throw new InputError({ file, line: line.number, field }, 'is empty');
  return value;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Parses a finite number; `what` says what the number is for in the error. */
export function parseNumber(
  file: string,
  line: Line,
  field: string,
  value: string,
  what = 'a number',
): number {
  const trimmed = value.trim();
  const n = trimmed === '' ? NaN : Number(trimmed);
  if (!Number.isFinite(n)) {
    throw new InputError({ file, line: line.number, field }, `${JSON.stringify(value)} is not ${what}`);
  }
  // Numbers reach the model as float32: a larger one would become Infinity there, and NaN after it.
  if (Math.abs(n) > FLOAT32_MAX) {
    throw new InputError(
      { file, line: line.number, field },
      `${JSON.stringify(value)} is out of range (a 32-bit float holds at most ±3.4e38)`,
    );
  }
  return n;
}
