/**
 * Reading a text data file line by line, strictly: every line is checked for valid UTF-8 and a sane
 * length, and numbered from 1 so that every later error can point at `file:line`. Lines are split on
 * bytes before decoding, so a bad byte is blamed on exactly one line and a huge line never has to be
 * held in memory whole.
 */
import { open } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { InputError, UserError } from '../util/errors.js';
import { asUserError } from '../util/system-error.js';

/** One megabyte of characters: far above any sentence, low enough to catch a binary or one-line file. */
export const DEFAULT_MAX_LINE_LENGTH = 1 << 20;

/** A line of text (without its line ending) and its 1-based line number. */
export interface Line {
  number: number;
  text: string;
  /** With the `offsets` option: the byte range of the line in the file, line break excluded. */
  offset?: number;
  end?: number;
}

export interface LineReaderOptions {
  /** Longest line accepted, in characters (Unicode code points). Default 1 MiB. */
  maxLineLength?: number;
  /**
   * Called with the error for each bad line (invalid UTF-8, too long, empty in the middle of the file);
   * the line is then left out. Without it the first bad line throws.
   */
  onBadLine?: (error: InputError) => void;
  /** Give every line its byte range (`offset`, `end`), so that it can be read again on its own. */
  offsets?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

type Item = Line | InputError;

/**
 * Turns a stream of byte chunks into checked lines. Blank lines are held back until the next non-blank
 * line: if one comes, the blank lines were in the middle of the file (an error); if the file ends, they
 * were trailing blank lines (dropped, since editors add them).
 */
class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  /** Set once the current line is known to be over the limit: its bytes are counted, not kept. */
  private overLimitChars: number | undefined;
  private lastByte = -1;
  private lineNumber = 0;
  /** Bytes consumed before the current line (its start offset), and bytes pushed so far. */
  private lineStart = 0;
  private pushed = 0;
  private pendingBlankLines: number[] = [];
  private sawContent = false;

  /** Lines and bad-line errors, in file order, waiting to be delivered. */
  private out: Item[] = [];

  constructor(
    private readonly file: string,
    private readonly maxLineLength: number,
    private readonly offsets: boolean,
  ) {}

  /** Takes the next chunk; returns the lines (and errors) completed so far. */
  push(chunk: Uint8Array): Item[] {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(LF, start);
      if (newline < 0) break;
      this.append(chunk.subarray(start, newline));
      this.finishLine(this.pushed + newline);
      start = newline + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
    this.pushed += chunk.length;
    return this.take();
  }

  /** Ends the input; returns the last line, if it had no line break. */
  end(): Item[] {
    if (this.partBytes > 0 || this.overLimitChars !== undefined) this.finishLine(this.pushed);
    if (!this.sawContent) throw new UserError(`${this.file}: file is empty`);
    return this.take();
  }

  private take(): Item[] {
    const items = this.out;
    this.out = [];
    return items;
  }

  private append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.lastByte = bytes[bytes.length - 1];
    if (this.overLimitChars !== undefined) {
      this.overLimitChars += countCodePoints(bytes);
      return;
    }
    this.parts.push(bytes);
    this.partBytes += bytes.length;
    // A code point takes at most 4 bytes, so past 4 × limit bytes the line is surely too long.
    if (this.partBytes > 4 * this.maxLineLength + 4) {
      this.overLimitChars = this.parts.reduce((n, part) => n + countCodePoints(part), 0);
      this.parts = [];
      this.partBytes = 0;
    }
  }

  /** `lineEnd`: the offset of the line break (or of the end of the file) that ends the line. */
  private finishLine(lineEnd: number): void {
    const number = ++this.lineNumber;
    let offset = this.lineStart;
    this.lineStart = lineEnd + 1;
    const tooLongChars = this.overLimitChars;
    let bytes = concat(this.parts, this.partBytes);
    const endsWithCr = this.lastByte === CR;
    this.parts = [];
    this.partBytes = 0;
    this.overLimitChars = undefined;
    this.lastByte = -1;

    if (tooLongChars !== undefined) {
      this.bad(
        number,
        `line is ${tooLongChars - (endsWithCr ? 1 : 0)} characters, over the limit of ${this.maxLineLength}`,
      );
      return;
    }
    let end = lineEnd;
    if (endsWithCr) {
      bytes = bytes.subarray(0, bytes.length - 1);
      end--;
    }
    if (number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      bytes = bytes.subarray(3);
      offset += 3;
    }

    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      this.bad(number, 'not valid UTF-8 (save the file as UTF-8)');
      return;
    }
    if (bytes.length > this.maxLineLength) {
      const chars = countCodePoints(bytes);
      if (chars > this.maxLineLength) {
        this.bad(number, `line is ${chars} characters, over the limit of ${this.maxLineLength}`);
        return;
      }
    }
    if (text.trim() === '') {
      this.pendingBlankLines.push(number);
      return;
    }
    this.flushBlankLines();
    this.sawContent = true;
    this.out.push(this.offsets ? { number, text, offset, end } : { number, text });
  }

  /** A bad line is content too: blank lines before it are in the middle of the file. */
  private bad(number: number, problem: string): void {
    this.flushBlankLines();
    this.sawContent = true;
    this.out.push(new InputError({ file: this.file, line: number }, problem));
  }

  private flushBlankLines(): void {
    const blank = this.pendingBlankLines;
    this.pendingBlankLines = [];
    for (const number of blank) {
      this.out.push(
        new InputError(
          { file: this.file, line: number },
          'empty line (blank lines are only allowed at the end of the file)',
        ),
      );
    }
  }
}

/** Lines pass through; a bad line's error goes to onBadLine, or is thrown, in its place in file order. */
function* deliver(items: Item[], onBadLine: LineReaderOptions['onBadLine']): Generator<Line> {
  for (const item of items) {
    if (!(item instanceof InputError)) yield item;
    else if (onBadLine) onBadLine(item);
    else throw item;
  }
}

/** Streams the lines of a file; see LineReaderOptions for what counts as a bad line. */
export async function* readLines(file: string, options: LineReaderOptions = {}): AsyncGenerator<Line> {
  const splitter = newSplitter(file, options);
  const { onBadLine } = options;
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw fileError(file, error);
  });
  // A directory opens fine on Linux and fails only at the first read (EISDIR), so reads are wrapped too.
  const chunks = handle.createReadStream({ highWaterMark: 1 << 16, autoClose: false });
  const it = chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await it.next().catch((error: unknown) => {
        throw fileError(file, error);
      });
      if (next.done) break;
      yield* deliver(splitter.push(next.value as Buffer), onBadLine);
    }
    yield* deliver(splitter.end(), onBadLine);
  } finally {
    // Stops the stream when the reader leaves early (a `for await … break` would do this itself).
    await it.return?.().catch(() => undefined);
    await handle.close();
  }
}

/** The same checks as readLines, reading the whole file at once: for small files (configs, vocabularies). */
export function readLinesSync(file: string, options: LineReaderOptions = {}): Line[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw fileError(file, error);
  }
  return splitLines(file, bytes, options);
}

/** Splits bytes already in memory into checked lines; `file` is only used in messages. */
export function splitLines(file: string, bytes: Uint8Array, options: LineReaderOptions = {}): Line[] {
  const splitter = newSplitter(file, options);
  return [...deliver([...splitter.push(bytes), ...splitter.end()], options.onBadLine)];
}

function newSplitter(file: string, options: LineReaderOptions): LineSplitter {
  const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  if (!(max > 0)) throw new RangeError(`maxLineLength must be positive, got ${max}`);
  return new LineSplitter(file, max, options.offsets === true);
}

/** Turns a Node file-system error into a one-line message the user can act on. */
export function fileError(file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new UserError(`${file}: no such file`);
  if (code === 'EISDIR') return new UserError(`${file}: is a directory, expected a file`);
  if (code === 'EACCES' || code === 'EPERM') return new UserError(`${file}: permission denied`);
  const user = asUserError(error, file);
  return user instanceof Error ? user : new Error(String(error));
}

/** Code points in UTF-8 bytes: every byte that is not a continuation byte (10xxxxxx) starts one. */
function countCodePoints(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] & 0xc0) !== 0x80) n++;
  return n;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
