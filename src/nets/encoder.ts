/**
 * What every preset network is: a text encoder. Task heads (src/tasks/) sit on top of either the
 * per-token sequence (sequence labelling, span extraction) or the pooled vector (classification,
 * matching), so any net serves any task.
 */
import type { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';

export interface EncoderInput {
  /** Token ids, int64 [batch, time], padded with the vocabulary's [PAD] id. */
  ids: Tensor;
  /** true where there is a real token, bool [batch, time]. */
  mask: Tensor;
  /** Real lengths, int64 [batch] (≥ 1). */
  lengths: Tensor;
  /** Segment ids for pair input to the Transformer, int64 [batch, time]. */
  typeIds?: Tensor;
  /** Each token's character ids, int64 [batch, time, chars], for an encoder with character features. */
  charIds?: Tensor;
}

export interface EncoderOutput {
  /** Per-token states [batch, time, sequenceSize]. */
  sequence: Tensor;
  /** One vector per text [batch, pooledSize]. */
  pooled: Tensor;
}

export interface TextEncoder extends Module {
  readonly sequenceSize: number;
  readonly pooledSize: number;
  encode(input: EncoderInput): EncoderOutput;
}

export type NetName = 'bow' | 'cnn' | 'gru' | 'lstm' | 'transformer';
