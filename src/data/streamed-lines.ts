/**
 * A training file too large for memory, read a batch at a time: one pass over the file (through the task's
 * own reader, so every bad line is reported before training starts) writes a line index (line-index.ts),
 * and each epoch's batches are then read back at their byte offsets in a seeded order. The order is drawn
 * exactly as the in-memory trainer draws it (batchIndices over the same generator), so a streamed run
 * visits the examples in the order an in-memory run does and trains the same weights; only one batch of
 * lines is held at a time.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { fileStamp, LineIndex, LineIndexWriter } from './line-index.js';
import { fileError, type Line } from './line-reader.js';
import type { RecordPlace } from './readers/types.js';

/** The examples 0..n-1 in the order one epoch visits them (the same draws as batchIndices with `rng`). */
export function epochOrder(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return rng.shuffle(order);
}

/** Batch `b` of an epoch's order: `batchSize` examples, fewer in the last batch. */
export function batchOf(order: Uint32Array, b: number, batchSize: number): Uint32Array {
  return order.subarray(b * batchSize, Math.min(order.length, (b + 1) * batchSize));
}

/**
 * Indexes `data` through a reading pass: `readEach` reads the file and calls back with the place of every
 * example it accepts (bad lines are its business: reported, or skipped as the config says). `describe`,
 * called after the pass, gives what else the pass found, kept with the index (LineIndex.extra).
 */
export async function indexDataFile(
  data: string,
  indexFile: string,
  readEach: (onExample: (place: RecordPlace) => void) => Promise<void>,
  describe?: () => unknown,
): Promise<LineIndex> {
  const stamp = fileStamp(data);
  const writer = new LineIndexWriter(indexFile, data);
  let extra: unknown;
  try {
    await readEach((place) => {
      if (place.offset === undefined || place.end === undefined)
        throw new Error(`${data}:${place.line}: the reader gave no byte range to index`);
      writer.add({ offset: place.offset, end: place.end, line: place.line });
    });
    extra = describe?.();
  } catch (error) {
    writer.abandon();
    throw error;
  }
  writer.finish(stamp, extra);
  return new LineIndex(indexFile);
}

/** The indexed lines of a data file, read back by example number. */
export class StreamedLines {
  private readonly fd: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(readonly index: LineIndex) {
    try {
      this.fd = openSync(index.data, 'r');
    } catch (error) {
      throw fileError(index.data, error);
    }
  }

  get count(): number {
    return this.index.count;
  }

  /** Line 1 of the file, indexed or not: a reader needs it to know whether the file has a header row. */
  firstLine(): Line {
    const chunks: Buffer[] = [];
    let position = 0;
    for (;;) {
      const chunk = Buffer.alloc(1 << 16);
      const n = readSync(this.fd, chunk, 0, chunk.length, position);
      const newline = chunk.subarray(0, n).indexOf(0x0a);
      chunks.push(chunk.subarray(0, newline >= 0 ? newline : n));
      position += n;
      if (newline >= 0 || n === 0) break;
    }
    let bytes = Buffer.concat(chunks);
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { number: 1, text: this.decode(bytes, 1) };
  }

  /** The lines of examples `ids`, in that order (read in file order, so a batch reads forwards). */
  read(ids: ArrayLike<number>): Line[] {
    this.index.check(this.fd);
    const entries = Array.from(ids, (id, slot) => ({ slot, ...this.index.get(id) }));
    const byOffset = [...entries].sort((a, b) => a.offset - b.offset);
    const out = new Array<Line>(entries.length);
    for (const e of byOffset) {
      const bytes = Buffer.allocUnsafe(e.end - e.offset);
      const n = readSync(this.fd, bytes, 0, bytes.length, e.offset);
      if (n !== bytes.length) this.index.check(this.fd);
      out[e.slot] = { number: e.line, text: this.decode(bytes, e.line), offset: e.offset, end: e.end };
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
    this.index.close();
  }

  private decode(bytes: Uint8Array, line: number): string {
    try {
      return this.decoder.decode(bytes);
    } catch {
      // The pass checked every indexed line: a line that no longer decodes was changed in place.
      throw new UserError(
        `${this.index.data}:${line}: not valid UTF-8 (the file changed since it was indexed)`,
      );
    }
  }
}
