/**
 * The training batches of a streamed file: each epoch visits the indexed examples in the order the
 * in-memory trainer would (epochOrder over epochRng(seed, epoch)), and each batch is read, parsed and
 * encoded when it is drawn, so only one batch of examples is ever in memory. Its position (epoch, batches
 * drawn) is all a checkpoint needs to draw the same batches again after a resume.
 */
import { epochRng } from '../util/rng.js';
import type { Line } from './line-reader.js';
import { batchOf, epochOrder, type StreamedLines } from './streamed-lines.js';

/** The trainer's BatchSource (train/training-hooks.ts), for a streamed file. */
export class StreamedBatches<E, F> {
  readonly batchesPerEpoch: number;
  private epoch = 0;
  private batchInEpoch = 0;
  private order: Uint32Array | null = null;

  constructor(
    private readonly lines: StreamedLines,
    private readonly parse: (line: Line) => E,
    private readonly encode: (example: E) => F,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.batchesPerEpoch = Math.ceil(lines.count / batchSize);
  }

  /** Examples in one epoch. */
  get size(): number {
    return this.lines.count;
  }

  next(): { features: F[]; epoch: number } {
    if (this.batchInEpoch >= this.batchesPerEpoch) this.seek({ epoch: this.epoch + 1, batchInEpoch: 0 });
    this.order ??= epochOrder(this.lines.count, epochRng(this.seed, this.epoch));
    const ids = batchOf(this.order, this.batchInEpoch++, this.batchSize);
    const features = this.lines.read(ids).map((line) => this.encode(this.parse(line)));
    return { features, epoch: this.epoch };
  }

  /** Where the batches stand; a finished epoch reads as the start of the next one. */
  position(): { epoch: number; batchInEpoch: number } {
    return this.batchInEpoch >= this.batchesPerEpoch
      ? { epoch: this.epoch + 1, batchInEpoch: 0 }
      : { epoch: this.epoch, batchInEpoch: this.batchInEpoch };
  }

  seek(position: { epoch: number; batchInEpoch: number }): void {
    if (position.epoch !== this.epoch) this.order = null;
    this.epoch = position.epoch;
    this.batchInEpoch = position.batchInEpoch;
  }

  close(): void {
    this.lines.close();
  }
}
