/**
 * Causal language models: given tokens 0..t, a distribution over token t+1. Two presets:
 *  - an LSTM (or GRU) LM: embeddings → unidirectional RNN → dropout → linear head (`lm_head`);
 *  - a causal Transformer LM: the decoder of decoder.ts without cross-attention (`decoder.*`), its
 *    output projection tied to the token embedding.
 * Both take right-padded ids with their lengths; padding never influences a real position.
 */
import * as F from '../engine/functional.js';
import { Embedding } from '../engine/nn/embedding.js';
import { Linear } from '../engine/nn/linear.js';
import { Module } from '../engine/nn/module.js';
import { GRU, LSTM } from '../engine/nn/rnn.js';
import type { Tensor } from '../engine/tensor.js';
import type { ModelConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { transformerSize } from './build.js';
import { TransformerDecoder, type DecoderOptions } from './decoder.js';

export interface LanguageModelNet extends Module {
  /** ids int64 [B,T], lengths int64 [B] → logits [B,T,V] where row t predicts token t+1. */
  logits(ids: Tensor, lengths: Tensor): Tensor;
  /** The bias [V] of the output projection (where output-prior.ts puts the unigram prior). */
  readonly outputBias: Tensor;
}

export interface RnnLmOptions {
  cell: 'lstm' | 'gru';
  vocabSize: number;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  dropout: number;
  paddingIdx: number;
}

export class RnnLanguageModel extends Module implements LanguageModelNet {
  readonly embedding: Embedding;
  readonly rnn: LSTM | GRU;
  readonly head: Linear;

  constructor(readonly options: RnnLmOptions) {
    super();
    const o = options;
    this.embedding = this.child(
      'embedding',
      new Embedding(o.vocabSize, o.embeddingDim, { paddingIdx: o.paddingIdx }),
    );
    const rnnOptions = { numLayers: o.numLayers, bidirectional: false, dropout: o.dropout };
    this.rnn = this.child(
      'rnn',
      o.cell === 'lstm'
        ? new LSTM(o.embeddingDim, o.hiddenSize, rnnOptions)
        : new GRU(o.embeddingDim, o.hiddenSize, rnnOptions),
    );
    this.head = this.child('lm_head', new Linear(o.hiddenSize, o.vocabSize));
  }

  get outputBias(): Tensor {
    return this.head.bias!;
  }

  logits(ids: Tensor, lengths: Tensor): Tensor {
    const x = F.dropout(this.embedding.forward(ids), this.options.dropout, this.training);
    const states = this.rnn.forward(x, lengths).output;
    return this.head.forward(F.dropout(states, this.options.dropout, this.training));
  }
}

export class TransformerLanguageModel extends Module implements LanguageModelNet {
  readonly decoder: TransformerDecoder;

  constructor(options: Omit<DecoderOptions, 'crossAttention'>) {
    super();
    this.decoder = this.child('decoder', new TransformerDecoder({ ...options, crossAttention: false }));
  }

  get outputBias(): Tensor {
    return this.decoder.outputBias;
  }

  logits(ids: Tensor): Tensor {
    return this.decoder.logits(ids);
  }
}

/** The LM preset for `model.net`: lstm/gru → RNN LM, transformer → causal Transformer. */
export function buildLanguageModel(model: ModelConfig, vocabSize: number, padId: number): LanguageModelNet {
  switch (model.net) {
    case 'lstm':
    case 'gru':
      return new RnnLanguageModel({
        cell: model.net,
        vocabSize,
        embeddingDim: model.embedding_dim,
        hiddenSize: model.hidden_size,
        numLayers: model.num_layers,
        dropout: model.dropout,
        paddingIdx: padId,
      });
    case 'transformer':
      return new TransformerLanguageModel(transformerSize(model, vocabSize, padId));
    default:
      throw new UserError(
        `model.net: a language model is an lstm, gru or transformer, not "${model.net}" (it must read left to right)`,
      );
  }
}
