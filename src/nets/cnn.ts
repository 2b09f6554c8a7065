/**
 * Convolutional text encoder after Kim (2014): one bank of `numFilters` n-gram detectors per kernel width,
 * each max-pooled over the text, concatenated. Good at keyword and short-phrase evidence, and fast.
 *
 * Parameters: `embedding.weight`, `convs.{i}.weight|bias` (one per kernel width, in the given order),
 * `token_conv.weight|bias` (the per-token output for sequence labelling), and `char_cnn.*` when the words
 * also get character features (char-cnn.ts), concatenated with each word's embedding.
 */
import { cat, zeros } from '../engine/create.js';
import { Conv1d } from '../engine/nn/conv1d.js';
import { Dropout } from '../engine/nn/dropout.js';
import { Embedding } from '../engine/nn/embedding.js';
import { Module, ModuleDict } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import { UserError } from '../util/errors.js';
import { CharCnn, withCharFeatures, type CharCnnOptions } from './char-cnn.js';
import type { EncoderInput, EncoderOutput, TextEncoder } from './encoder.js';
import { checkDropout, checkSizes, maskedMax, positionsBelow, zeroPadding } from './pooling.js';

export interface CnnOptions {
  vocabSize: number;
  embeddingDim: number;
  /** Filters per kernel width; also the per-token sequence size. */
  numFilters: number;
  /** n-gram widths, one filter bank each. Default [2, 3, 4]. */
  kernelWidths?: number[];
  /** Id of [PAD] (0 in vocabularies alembic builds). Default 0. */
  paddingIdx?: number;
  /** Dropout on the outputs (Kim applies it to the pooled features), training only. Default 0. */
  dropout?: number;
}

/** Width of the per-token convolution: odd, so that with padding 1 every token sits at a window centre. */
const TOKEN_KERNEL = 3;

export class CnnEncoder extends Module implements TextEncoder {
  readonly options: Required<CnnOptions>;
  readonly sequenceSize: number;
  readonly pooledSize: number;
  readonly embedding: Embedding;
  readonly convs: Conv1d[];
  readonly tokenConv: Conv1d;
  readonly charCnn?: CharCnn;
  private readonly drop: Dropout;
  private readonly widest: number;

  constructor(options: CnnOptions, chars?: CharCnnOptions) {
    super();
    const o: Required<CnnOptions> = { kernelWidths: [2, 3, 4], paddingIdx: 0, dropout: 0, ...options };
    checkSizes('cnn', { vocabSize: o.vocabSize, embeddingDim: o.embeddingDim, numFilters: o.numFilters });
    checkKernelWidths(o.kernelWidths);
    checkDropout('cnn', o.dropout);
    this.options = o;
    this.embedding = this.child(
      'embedding',
      new Embedding(o.vocabSize, o.embeddingDim, { paddingIdx: o.paddingIdx }),
    );
    if (chars) this.charCnn = this.child('char_cnn', new CharCnn(chars));
    const inputSize = o.embeddingDim + (chars?.filters ?? 0);
    const bank = this.child('convs', new ModuleDict());
    this.convs = o.kernelWidths.map((k, i) => bank.add(String(i), new Conv1d(inputSize, o.numFilters, k)));
    this.tokenConv = this.child(
      'token_conv',
      new Conv1d(inputSize, o.numFilters, TOKEN_KERNEL, (TOKEN_KERNEL - 1) / 2),
    );
    this.drop = this.child('dropout', new Dropout(o.dropout));
    this.widest = Math.max(...o.kernelWidths);
    this.sequenceSize = o.numFilters;
    this.pooledSize = o.kernelWidths.length * o.numFilters;
  }

  encode({ ids, mask, lengths, charIds }: EncoderInput): EncoderOutput {
    // Zeroing padding explicitly makes a batch's padding identical to the zero right-padding below, which
    // is what makes a text's windows the same alone and inside a longer batch.
    const words = withCharFeatures(this.embedding.forward(ids), this.charCnn, charIds);
    const x = zeroPadding(words, mask).transpose(1, 2); // [B, E, T]
    const padded = padTimeTo(x, this.widest);
    const features = this.convs.map((conv, i) => {
      const windows = conv.forward(padded).relu().transpose(1, 2); // [B, windows, F]
      return maskedMax(windows, realWindows(lengths, this.options.kernelWidths[i], windows.size(1)));
    });
    const pooled = this.drop.forward(cat(features, 1));
    // The per-token output is computed only when a task reads it: classification never does, and the
    // extra convolution would cost it a quarter of its time.
    let sequence: Tensor | undefined;
    const tokenConv = this.tokenConv;
    const drop = this.drop;
    return {
      pooled,
      get sequence(): Tensor {
        sequence ??= drop.forward(tokenConv.forward(x).relu().transpose(1, 2));
        return sequence;
      },
    };
  }
}

/**
 * Right-pads [B, E, T] with zeros to at least `minTime` steps, so a text shorter than the widest kernel
 * still has one window (Kim pads short sentences the same way).
 */
function padTimeTo(x: Tensor, minTime: number): Tensor {
  const missing = minTime - x.size(2);
  if (missing <= 0) return x;
  return cat([x, zeros([x.size(0), x.size(1), missing])], 2);
}

/**
 * Windows of width k that lie inside the text: those starting at 0 … length − k. A text shorter than k
 * keeps its first window (its tokens plus zero padding), so every text has at least one. Windows that
 * start later would read batch padding and must not win the max.
 */
function realWindows(lengths: Tensor, k: number, windows: number): Tensor {
  return positionsBelow(lengths.sub(k - 1).clamp(1), windows);
}

function checkKernelWidths(widths: number[]): void {
  if (widths.length === 0) throw new UserError('cnn: kernelWidths must list at least one width');
  for (const k of widths) {
    if (!Number.isInteger(k) || k < 1)
      throw new UserError(`cnn: kernel width must be a positive integer, got ${k}`);
  }
}
