/**
 * Recurrent text encoder (GRU or LSTM): embeddings → dropout → a multi-layer, by default bidirectional
 * RNN packed by the real lengths, so padding never enters the recurrence. Good when word order and
 * long-range context matter (sequence labelling, sentiment with negation).
 *
 * Parameters: `embedding.weight`, then PyTorch's RNN names under `rnn.` (`rnn.weight_ih_l0`,
 * `rnn.bias_hh_l1_reverse`, …), and `char_cnn.*` when the words also get character features (char-cnn.ts),
 * concatenated with each word's embedding before the dropout.
 */
import { cat } from '../engine/create.js';
import { Dropout } from '../engine/nn/dropout.js';
import { Embedding } from '../engine/nn/embedding.js';
import { Module } from '../engine/nn/module.js';
import { GRU, LSTM } from '../engine/nn/rnn.js';
import { CharCnn, withCharFeatures, type CharCnnOptions } from './char-cnn.js';
import type { EncoderInput, EncoderOutput, TextEncoder } from './encoder.js';
import { checkDropout, checkSizes, maskedMax, maskedMean } from './pooling.js';

export type RnnCell = 'gru' | 'lstm';

export interface RnnEncoderOptions {
  cell: RnnCell;
  vocabSize: number;
  embeddingDim: number;
  /** Hidden units per direction. */
  hiddenSize: number;
  /** Stacked layers. Default 1. */
  numLayers?: number;
  /** Read the text both ways. Default true. */
  bidirectional?: boolean;
  /** Dropout on the embeddings and between stacked layers (training only). Default 0. */
  dropout?: number;
  /** Id of [PAD] (0 in vocabularies alembic builds). Default 0. */
  paddingIdx?: number;
}

export class RnnEncoder extends Module implements TextEncoder {
  readonly options: Required<RnnEncoderOptions>;
  /** directions × hiddenSize. */
  readonly sequenceSize: number;
  /** 2 × sequenceSize: max-pool and mean-pool side by side. */
  readonly pooledSize: number;
  readonly embedding: Embedding;
  readonly rnn: LSTM | GRU;
  readonly charCnn?: CharCnn;
  private readonly drop: Dropout;

  constructor(options: RnnEncoderOptions, chars?: CharCnnOptions) {
    super();
    const o: Required<RnnEncoderOptions> = {
      numLayers: 1,
      bidirectional: true,
      dropout: 0,
      paddingIdx: 0,
      ...options,
    };
    const { vocabSize, embeddingDim, hiddenSize, numLayers } = o;
    checkSizes(o.cell, { vocabSize, embeddingDim, hiddenSize, numLayers });
    checkDropout(o.cell, o.dropout);
    this.options = o;
    this.embedding = this.child(
      'embedding',
      new Embedding(vocabSize, embeddingDim, { paddingIdx: o.paddingIdx }),
    );
    if (chars) this.charCnn = this.child('char_cnn', new CharCnn(chars));
    const inputSize = embeddingDim + (chars?.filters ?? 0);
    this.drop = this.child('dropout', new Dropout(o.dropout));
    const rnnOptions = { numLayers, bidirectional: o.bidirectional, dropout: o.dropout };
    this.rnn = this.child(
      'rnn',
      o.cell === 'lstm'
        ? new LSTM(inputSize, hiddenSize, rnnOptions)
        : new GRU(inputSize, hiddenSize, rnnOptions),
    );
    this.sequenceSize = this.rnn.outputSize;
    this.pooledSize = 2 * this.sequenceSize;
  }

  /**
   * pooled = [max over time ; mean over time] of the top layer's states rather than the final hidden
   * state. A final state is dominated by the last tokens it read (the first ones, going backwards), while
   * every position's state is at hand anyway: the max keeps the strongest evidence wherever it occurs (a
   * keyword, a negation), the mean the overall drift of the text. This is ULMFiT's "concat pooling"
   * (Howard & Ruder 2018) minus its last-state part, which adds little beside the max and the mean.
   * Both are masked, so padding neither wins the max nor dilutes the mean.
   */
  encode({ ids, mask, lengths, charIds }: EncoderInput): EncoderOutput {
    const x = this.drop.forward(withCharFeatures(this.embedding.forward(ids), this.charCnn, charIds));
    const sequence = this.rnn.forward(x, lengths).output; // [B, T, dirs·H], zero past each length
    const pooled = cat([maskedMax(sequence, mask), maskedMean(sequence, mask)], 1);
    return { sequence, pooled };
  }
}
