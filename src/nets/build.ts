/**
 * From the config's `model` section to a text encoder. A Transformer with `pretrained_dir` takes its
 * shape from the checkpoint's config.json and its weights from the checkpoint.
 */
import type { ModelConfig } from '../config/run-config.js';
import { ngramSpecOf } from '../data/ngram-hash.js';
import { UserError } from '../util/errors.js';
import { BowEncoder } from './bow.js';
import type { CharCnnOptions } from './char-cnn.js';
import { CnnEncoder } from './cnn.js';
import type { TextEncoder } from './encoder.js';
import { readBertConfig } from './checkpoint-names.js';
import { RnnEncoder } from './rnn-encoder.js';
import { TransformerEncoder, type TransformerOptions } from './transformer.js';
import { setWordDropout, wordDropoutRate, type WordDropoutIds } from './word-dropout.js';

/**
 * `words`: the vocabulary's ids for word dropout to [UNK] (word-dropout.ts); without it, none.
 * `charVocabSize`: the char vocabulary's size when `model.char_features` is on (char-cnn.ts).
 */
export function buildEncoder(
  model: ModelConfig,
  vocabSize: number,
  padId: number,
  words?: WordDropoutIds,
  charVocabSize?: number,
): TextEncoder {
  const encoder = newEncoder(model, vocabSize, padId, charVocabSize);
  if (words) setWordDropout(encoder, wordDropoutRate(model, words.tokenizer), words);
  return encoder;
}

function newEncoder(
  model: ModelConfig,
  vocabSize: number,
  padId: number,
  charVocabSize?: number,
): TextEncoder {
  switch (model.net) {
    case 'bow':
      return new BowEncoder({
        vocabSize: vocabSize + (ngramSpecOf(model)?.buckets ?? 0),
        hashedRows: ngramSpecOf(model)?.buckets ?? 0,
        linear: model.bow === 'linear',
        tokenWeights: model.token_weights,
        initStd: model.init_std,
        embeddingDim: model.embedding_dim,
        hiddenSize: model.hidden_size,
        paddingIdx: padId,
        dropout: model.dropout,
      });
    case 'cnn':
      return new CnnEncoder(
        {
          vocabSize,
          embeddingDim: model.embedding_dim,
          numFilters: model.num_filters,
          kernelWidths: model.kernel_widths,
          paddingIdx: padId,
          dropout: model.dropout,
        },
        charOptions(model, charVocabSize),
      );
    case 'gru':
    case 'lstm':
      return new RnnEncoder(
        {
          cell: model.net,
          vocabSize,
          embeddingDim: model.embedding_dim,
          hiddenSize: model.hidden_size,
          numLayers: model.num_layers,
          bidirectional: model.bidirectional,
          dropout: model.dropout,
          paddingIdx: padId,
        },
        charOptions(model, charVocabSize),
      );
    case 'transformer':
      return new TransformerEncoder(transformerOptions(model, vocabSize, padId));
  }
}

function charOptions(model: ModelConfig, charVocabSize?: number): CharCnnOptions | undefined {
  const cf = model.char_features;
  if (!cf) return undefined;
  // Only a single sequence labelling task builds the char vocabulary (multitask training shares no such thing).
  if (charVocabSize === undefined)
    throw new UserError('model.char_features: only for a sequence labelling task trained on its own');
  return {
    vocabSize: charVocabSize,
    dim: cf.dim,
    filters: cf.filters,
    width: cf.width,
    dropout: model.dropout,
  };
}

/**
 * The model section with a checkpoint's shape written into it: when a Transformer's architecture comes from a
 * checkpoint (pretrained_dir, or the encoder_config a saved model keeps), code that reads the section's sizes
 * (a head's width, the position limit, a distillation check) must see the network actually built.
 */
export function withCheckpointShape(model: ModelConfig): ModelConfig {
  const architecture = model.encoder_config ?? model.pretrained_dir;
  if (model.net !== 'transformer' || !architecture) return model;
  const c = readBertConfig(architecture);
  return {
    ...model,
    hidden_size: c.hiddenSize,
    num_layers: c.numHiddenLayers,
    num_heads: c.numAttentionHeads,
    ffn_size: c.intermediateSize,
    max_positions: c.maxPositionEmbeddings,
  };
}

/**
 * Says on stderr when a pretrained checkpoint's shape replaces the sizes the config's model section gives,
 * so a template's 256 × 4 next to a 32 × 2 checkpoint is not a silent surprise.
 */
export function noteCheckpointShape(
  given: ModelConfig,
  effective: ModelConfig,
  log: (m: string) => void = (m) => process.stderr.write(`${m}\n`),
): void {
  if (!given.pretrained_dir || given.net !== 'transformer') return;
  const keys = ['hidden_size', 'num_layers', 'num_heads', 'ffn_size', 'max_positions'] as const;
  const changed = keys.filter((k) => given[k] !== effective[k]);
  if (changed.length === 0) return;
  log(
    `pretrained: the checkpoint's shape replaces the config's ` +
      changed.map((k) => `model.${k} ${given[k]} → ${effective[k]}`).join(', '),
  );
}

export function transformerOptions(model: ModelConfig, vocabSize: number, padId: number): TransformerOptions {
  const architecture = model.encoder_config ?? model.pretrained_dir;
  if (architecture) {
    const c = readBertConfig(architecture);
    return {
      vocabSize: c.vocabSize,
      hiddenSize: c.hiddenSize,
      numLayers: c.numHiddenLayers,
      numHeads: c.numAttentionHeads,
      ffnSize: c.intermediateSize,
      maxPositions: c.maxPositionEmbeddings,
      typeVocabSize: c.typeVocabSize,
      taskTypeVocabSize: c.useTaskId ? c.taskTypeVocabSize : 0,
      dropout: c.hiddenDropoutProb,
      attentionDropout: c.attentionProbsDropoutProb,
      layerNormEps: c.layerNormEps,
      activation: c.hiddenAct,
      paddingIdx: c.padTokenId,
      pooling: model.pooling,
    };
  }
  return {
    ...transformerSize(model, vocabSize, padId),
    attentionDropout: model.dropout,
    pooling: model.pooling,
  };
}

/** A from-scratch Transformer's shape as the `model` section gives it (the encoder's, or a causal LM's). */
export function transformerSize(model: ModelConfig, vocabSize: number, padId: number) {
  return {
    vocabSize,
    hiddenSize: model.hidden_size,
    numLayers: model.num_layers,
    numHeads: model.num_heads,
    ffnSize: model.ffn_size,
    maxPositions: model.max_positions,
    dropout: model.dropout,
    paddingIdx: padId,
  };
}
