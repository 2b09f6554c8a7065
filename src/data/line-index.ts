/**
 * The on-disk index of a streamed data file: one fixed-size entry per example (the byte range of its line
 * and its line number), so that any example can be read again on its own, in any order, without holding
 * the file or its examples in memory. Entries are read from the index file on demand, so the index costs
 * no memory either. Beside it a small JSON stamp records the data file's size and modification time:
 * a data file that changes under a run no longer matches its index, and reading from it stops with an
 * error instead of training on lines that are not the ones counted.
 */
import {
  closeSync,
  existsSync,
  readFileSync,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { readJsonFile } from '../util/json-file.js';
import { UserError } from '../util/errors.js';
import { fileError } from './line-reader.js';

/**
 * One example's record: bytes [offset, end) of the data file, 1-based number of its first line. A record is
 * one line (line break excluded), or a CSV record, whose quoted fields may span lines (its line break kept).
 */
export interface LineEntry {
  offset: number;
  end: number;
  line: number;
}

/** What identifies a version of a data file cheaply: its size and modification time. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

interface IndexMeta {
  data: string;
  stamp: FileStamp;
  count: number;
  /** What the indexing pass found besides the lines (a caller's JSON, see LineIndexWriter.finish). */
  extra?: unknown;
}

/** float64 offset, uint32 byte length, uint32 line number. */
const ENTRY_BYTES = 16;
/** Entries buffered before a write. */
const WRITE_BATCH = 4096;

export function fileStamp(file: string): FileStamp {
  try {
    const { size, mtimeMs } = statSync(file);
    return { size, mtimeMs };
  } catch (error) {
    throw fileError(file, error);
  }
}

/** The error for a data file whose size or time is no longer the one its index was built from. */
function changedError(data: string): UserError {
  return new UserError(
    `${data}: the file changed while it was being trained on (its size or modification time differs ` +
      'from when its index was built); restore it, or start the run again',
  );
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Writes an index entry by entry (to a temporary file, renamed into place by `finish`). */
export class LineIndexWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private readonly buffer = Buffer.alloc(WRITE_BATCH * ENTRY_BYTES);
  private buffered = 0;
  private count = 0;

  constructor(
    private readonly indexFile: string,
    private readonly data: string,
  ) {
    // The old stamp goes first: until the new one is written, no index counts as built.
    rmSync(`${indexFile}.json`, { force: true });
    this.tmp = `${indexFile}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
  }

  add(entry: LineEntry): void {
    const at = this.buffered * ENTRY_BYTES;
    this.buffer.writeDoubleLE(entry.offset, at);
    this.buffer.writeUInt32LE(entry.end - entry.offset, at + 8);
    this.buffer.writeUInt32LE(entry.line, at + 12);
    this.count++;
    if (++this.buffered === WRITE_BATCH) this.flush();
  }

  /**
   * Closes the index, stamped with the data file as it was when the pass began (`stamp`): a file that
   * changed during the pass is an error rather than an index of a mixture.
   */
  finish(stamp: FileStamp, extra?: unknown): number {
    this.flush();
    closeSync(this.fd);
    if (!sameStamp(stamp, fileStamp(this.data))) throw changedError(this.data);
    renameSync(this.tmp, this.indexFile);
    const meta: IndexMeta = { data: this.data, stamp, count: this.count, extra };
    writeFileSync(`${this.indexFile}.json`, JSON.stringify(meta, null, 2) + '\n');
    return this.count;
  }

  /** Gives up (the pass failed): the partial index is not left behind. */
  abandon(): void {
    try {
      closeSync(this.fd);
    } finally {
      rmSync(this.tmp, { force: true });
    }
  }

  private flush(): void {
    if (this.buffered > 0) writeSync(this.fd, this.buffer, 0, this.buffered * ENTRY_BYTES);
    this.buffered = 0;
  }
}

/**
 * The index of `data` in `indexFile` when there is one, complete, built from the file as it is now (same
 * path, size and modification time); undefined when it must be built (again).
 */
export function existingLineIndex(indexFile: string, data: string): LineIndex | undefined {
  const metaFile = `${indexFile}.json`;
  if (!existsSync(metaFile) || !existsSync(indexFile)) return undefined;
  let meta: IndexMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as IndexMeta;
  } catch {
    return undefined;
  }
  if (meta.data !== data || !sameStamp(meta.stamp, fileStamp(data))) return undefined;
  if (statSync(indexFile).size !== meta.count * ENTRY_BYTES) return undefined;
  return new LineIndex(indexFile);
}

/** An index opened for reading entries; `check` stops on a data file that changed since it was built. */
export class LineIndex {
  readonly count: number;
  readonly data: string;
  readonly extra: unknown;
  private readonly stamp: FileStamp;
  private readonly fd: number;
  private readonly entry = Buffer.alloc(ENTRY_BYTES);

  constructor(indexFile: string) {
    const meta = readJsonFile(`${indexFile}.json`, 'streaming index') as IndexMeta;
    this.count = meta.count;
    this.data = meta.data;
    this.extra = meta.extra;
    this.stamp = meta.stamp;
    this.fd = openSync(indexFile, 'r');
    if (fstatSync(this.fd).size !== this.count * ENTRY_BYTES) {
      closeSync(this.fd);
      throw new UserError(`${indexFile}: the index is incomplete (delete it and start the run again)`);
    }
  }

  /** Throws when the data file is no longer the one indexed. */
  check(dataFd: number): void {
    const { size, mtimeMs } = fstatSync(dataFd);
    if (!sameStamp(this.stamp, { size, mtimeMs })) throw changedError(this.data);
  }

  get(i: number): LineEntry {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`index entry ${i} is outside 0..${this.count - 1}`);
    readSync(this.fd, this.entry, 0, ENTRY_BYTES, i * ENTRY_BYTES);
    const offset = this.entry.readDoubleLE(0);
    return { offset, end: offset + this.entry.readUInt32LE(8), line: this.entry.readUInt32LE(12) };
  }

  close(): void {
    closeSync(this.fd);
  }
}
