/**
 * Streams the records of an RFC 4180 CSV file (quoted fields holding commas, quotes and line breaks),
 * each with the line it starts on, parsed by csv-parse. What csv-parse leaves to its caller is done here
 * the way the TSV line reader does it: strict UTF-8 (a bad byte is blamed on its line, not turned into
 * U+FFFD), a BOM dropped, a record-size limit, and blank lines allowed only at the end of the file.
 * A syntax error (an unclosed quote, a quote inside an unquoted field) stops reading even with
 * skipBadLines, since the records after it cannot be told apart.
 */
import { open, readFile } from 'node:fs/promises';
import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { DEFAULT_MAX_LINE_LENGTH, fileError, splitLines } from '../line-reader.js';
import { InputError, UserError } from '../../util/errors.js';

export interface CsvRecord {
  /** The line the record starts on (a quoted field may run over several lines). */
  line: number;
  fields: string[];
  /**
   * With the `offsets` option: the record's byte range in the file, its line break included (a record is
   * parsed again from these bytes alone, so where its quoted line breaks end matters, not its own).
   */
  offset?: number;
  end?: number;
}

export async function* readCsvRecords(
  file: string,
  options: { maxLineLength?: number; onBadLine?: (error: InputError) => void; offsets?: boolean } = {},
): AsyncGenerator<CsvRecord> {
  const maxRecordSize = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const source = Readable.from(decodeStrictly(file));
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: false,
    max_record_size: maxRecordSize,
  });
  // pipeline passes a read error (invalid UTF-8, a missing file) on to the parser, which .pipe would not.
  pipeline(source, parser, () => {});
  let previousEnd = 0;
  // csv-parse counts the bytes of the text it re-encodes, which are the file's (the decoder keeps a BOM).
  let previousBytes = 0;
  let blankLines: number[] = [];
  let records = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number; bytes: number };
    }>) {
      const line = previousEnd + 1;
      previousEnd = info.lines;
      const offset = previousBytes;
      previousBytes = info.bytes;
      if (record.length === 1 && record[0].trim() === '') {
        blankLines.push(line);
        continue;
      }
      for (const blank of blankLines) {
        const error = new InputError(
          { file, line: blank },
          'empty line (blank lines are only allowed at the end of the file)',
        );
        if (options.onBadLine) options.onBadLine(error);
        else throw error;
      }
      blankLines = [];
      records++;
      yield options.offsets ? { line, fields: record, offset, end: info.bytes } : { line, fields: record };
    }
    if (records === 0) throw new UserError(`${file}: file is empty`);
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    throw csvSyntaxError(file, error, previousEnd + 1, maxRecordSize);
  } finally {
    source.destroy(); // closes the file when the caller stops early
  }
}

function csvSyntaxError(
  file: string,
  error: CsvError,
  recordStart: number,
  maxRecordSize: number,
): InputError {
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
    return new InputError(
      { file, line: recordStart },
      'CSV: a quoted field is never closed (the quote opened in this record runs to the end of the file)',
    );
  }
  if (error.code === 'CSV_MAX_RECORD_SIZE') {
    return new InputError(
      { file, line: recordStart },
      `record is over the limit of ${maxRecordSize} characters`,
    );
  }
  const line = (error as CsvError & { lines?: number }).lines ?? recordStart;
  const message = error.message.replace(/ at line \d+/, '').replace(/ on line \d+/, '');
  return new InputError({ file, line }, `CSV: ${message}`);
}

/** The file's text in chunks; invalid UTF-8 throws an error naming the line it is on. */
async function* decodeStrictly(file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw fileError(file, error);
  });
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 16, autoClose: false })) {
      try {
        yield decoder.decode(chunk as Buffer, { stream: true });
      } catch {
        throw await badUtf8Line(file);
      }
    }
    yield decoder.decode();
  } finally {
    await handle.close();
  }
}

/** Finds the line of the first invalid UTF-8 byte with the line reader, which checks each line alone. */
async function badUtf8Line(file: string): Promise<InputError> {
  let found: InputError | undefined;
  splitLines(file, await readFile(file), {
    maxLineLength: Infinity,
    onBadLine: (error) => {
      if (found === undefined && error.problem.includes('UTF-8')) found = error;
    },
  });
  return found ?? new InputError({ file }, 'not valid UTF-8 (save the file as UTF-8)');
}
