/**
 * Sequence-to-sequence nets for text generation (translation, summarisation, title generation):
 *  - transformer: the BERT-style encoder of transformer.ts (`encoder.*`, so `model.pretrained_dir` can
 *    initialise it) and the cross-attending decoder of decoder.ts (`decoder.*`);
 *  - gru / lstm, the light preset: a bidirectional RNN encoder and a unidirectional RNN decoder with
 *    Luong ("general") attention. The engine's RNN call takes no initial hidden state, so instead of
 *    starting the decoder from the encoder's final state, a summary of the source (a projection of the
 *    masked mean of its states) is fed to the decoder at every step beside the previous token; attention
 *    then reads the details. Being attention-after-RNN, teacher forcing runs in one RNN call.
 */
import { cat } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Embedding } from '../engine/nn/embedding.js';
import { Linear } from '../engine/nn/linear.js';
import { Module } from '../engine/nn/module.js';
import { GRU, LSTM } from '../engine/nn/rnn.js';
import type { Tensor } from '../engine/tensor.js';
import type { ModelConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { transformerOptions } from './build.js';
import { paddingBias, TransformerDecoder } from './decoder.js';
import type { EncoderInput } from './encoder.js';
import { maskedMean } from './pooling.js';
import { RnnEncoder } from './rnn-encoder.js';
import { TransformerEncoder } from './transformer.js';

/** What the decoder reads from the source: per-token states [B,S,D], their mask, and net extras. */
export interface Seq2SeqMemory {
  states: Tensor;
  mask: Tensor;
  /** RNN preset: source summary [B,H] and attention keys [B,S,H]. */
  summary?: Tensor;
  keys?: Tensor;
}

export interface Seq2SeqNet extends Module {
  encodeSource(input: EncoderInput): Seq2SeqMemory;
  /** Next-token logits [B,T,V] for decoder input ids [B,T] (right-padded; lengths int64 [B]). */
  decode(memory: Seq2SeqMemory, ids: Tensor, lengths: Tensor): Tensor;
  /** The bias [V] of the target-token projection (where output-prior.ts puts the unigram prior). */
  readonly outputBias: Tensor;
}

/** The memory rows for each decoding row (beam search runs several hypotheses per source). */
export function selectMemory(memory: Seq2SeqMemory, rows: Tensor): Seq2SeqMemory {
  const pick = (t: Tensor | undefined) => (t ? t.indexSelect(0, rows) : undefined);
  return {
    states: pick(memory.states)!,
    mask: pick(memory.mask)!,
    summary: pick(memory.summary),
    keys: pick(memory.keys),
  };
}

export class TransformerSeq2Seq extends Module implements Seq2SeqNet {
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;

  constructor(encoder: TransformerEncoder, decoder: TransformerDecoder) {
    super();
    if (encoder.options.hiddenSize !== decoder.options.hiddenSize)
      throw new Error('encoder and decoder hidden sizes differ');
    this.encoder = this.child('encoder', encoder);
    this.decoder = this.child('decoder', decoder);
  }

  encodeSource(input: EncoderInput): Seq2SeqMemory {
    return { states: this.encoder.encode(input).sequence, mask: input.mask };
  }

  decode(memory: Seq2SeqMemory, ids: Tensor): Tensor {
    return this.decoder.logits(ids, memory);
  }

  get outputBias(): Tensor {
    return this.decoder.outputBias;
  }
}

export interface RnnSeq2SeqOptions {
  cell: 'gru' | 'lstm';
  sourceVocabSize: number;
  targetVocabSize: number;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  decoderLayers: number;
  dropout: number;
  sourcePadId: number;
  targetPadId: number;
}

export class RnnSeq2Seq extends Module implements Seq2SeqNet {
  readonly encoder: RnnEncoder;
  readonly bridge: Linear;
  readonly embedding: Embedding;
  readonly rnn: LSTM | GRU;
  readonly attentionKey: Linear;
  readonly combine: Linear;
  readonly output: Linear;

  constructor(readonly options: RnnSeq2SeqOptions) {
    super();
    const o = options;
    this.encoder = this.child(
      'encoder',
      new RnnEncoder({
        cell: o.cell,
        vocabSize: o.sourceVocabSize,
        embeddingDim: o.embeddingDim,
        hiddenSize: o.hiddenSize,
        numLayers: o.numLayers,
        bidirectional: true,
        dropout: o.dropout,
        paddingIdx: o.sourcePadId,
      }),
    );
    const enc = this.encoder.sequenceSize;
    this.bridge = this.child('bridge', new Linear(enc, o.hiddenSize));
    this.embedding = this.child(
      'decoder_embedding',
      new Embedding(o.targetVocabSize, o.embeddingDim, { paddingIdx: o.targetPadId }),
    );
    const rnnOptions = { numLayers: o.decoderLayers, dropout: o.dropout };
    const inputSize = o.embeddingDim + o.hiddenSize;
    this.rnn = this.child(
      'decoder_rnn',
      o.cell === 'lstm'
        ? new LSTM(inputSize, o.hiddenSize, rnnOptions)
        : new GRU(inputSize, o.hiddenSize, rnnOptions),
    );
    this.attentionKey = this.child('attention_key', new Linear(enc, o.hiddenSize, { bias: false }));
    this.combine = this.child('attention_combine', new Linear(o.hiddenSize + enc, o.hiddenSize));
    this.output = this.child('output', new Linear(o.hiddenSize, o.targetVocabSize));
  }

  encodeSource(input: EncoderInput): Seq2SeqMemory {
    const states = this.encoder.encode(input).sequence;
    const summary = this.bridge.forward(maskedMean(states, input.mask)).tanh();
    return { states, mask: input.mask, summary, keys: this.attentionKey.forward(states) };
  }

  decode(memory: Seq2SeqMemory, ids: Tensor, lengths: Tensor): Tensor {
    const [batch, time] = ids.shape;
    const drop = (t: Tensor) => F.dropout(t, this.options.dropout, this.training);
    const summary = memory.summary!.unsqueeze(1).expand(batch, time, this.options.hiddenSize);
    const h = this.rnn.forward(cat([drop(this.embedding.forward(ids)), summary], 2), lengths).output;
    const scores = h.matmul(memory.keys!.mT).add(paddingBias(memory.mask).squeeze(1)); // [B,T,S]
    const context = scores.softmax(-1).matmul(memory.states); // [B,T,enc]
    const combined = this.combine.forward(cat([h, context], 2)).tanh();
    return this.output.forward(drop(combined));
  }

  get outputBias(): Tensor {
    return this.output.bias!;
  }
}

export interface Seq2SeqSizes {
  sourceVocabSize: number;
  targetVocabSize: number;
  sourcePadId: number;
  targetPadId: number;
  decoderLayers: number;
  /** Longest decoder input (max target length + start token). */
  maxTargetPositions: number;
}

export function buildSeq2Seq(model: ModelConfig, s: Seq2SeqSizes): Seq2SeqNet {
  switch (model.net) {
    case 'transformer': {
      const encoder = new TransformerEncoder(transformerOptions(model, s.sourceVocabSize, s.sourcePadId));
      const e = encoder.options;
      const decoder = new TransformerDecoder({
        vocabSize: s.targetVocabSize,
        hiddenSize: e.hiddenSize,
        numLayers: s.decoderLayers,
        numHeads: e.numHeads,
        ffnSize: e.ffnSize,
        maxPositions: Math.max(model.max_positions, s.maxTargetPositions),
        dropout: model.dropout,
        crossAttention: true,
        paddingIdx: s.targetPadId,
      });
      return new TransformerSeq2Seq(encoder, decoder);
    }
    case 'gru':
    case 'lstm':
      return new RnnSeq2Seq({
        cell: model.net,
        sourceVocabSize: s.sourceVocabSize,
        targetVocabSize: s.targetVocabSize,
        embeddingDim: model.embedding_dim,
        hiddenSize: model.hidden_size,
        numLayers: model.num_layers,
        decoderLayers: s.decoderLayers,
        dropout: model.dropout,
        sourcePadId: s.sourcePadId,
        targetPadId: s.targetPadId,
      });
    default:
      throw new UserError(`model.net: text_generation takes transformer, gru or lstm, not "${model.net}"`);
  }
}
