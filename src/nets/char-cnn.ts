/**
 * Character-level word features after Ma & Hovy (2016): each word's characters → embeddings → dropout →
 * a 1-D convolution over the characters → max over them → tanh, one vector per word, which the encoder
 * concatenates with the word embedding. Two words the vocabulary does not know then still differ
 * ("Kowalski" is not "running"), instead of both being the one [UNK] vector.
 *
 * Input: char ids int64 [batch, time, chars], every word padded to the same `chars` (src/data/char-vocab.ts)
 * so a word's vector does not depend on its batch. Parameters: `embedding.weight`, `conv.weight|bias`.
 */
import { cat } from '../engine/create.js';
import { Conv1d } from '../engine/nn/conv1d.js';
import { Dropout } from '../engine/nn/dropout.js';
import { Embedding } from '../engine/nn/embedding.js';
import { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import { UserError } from '../util/errors.js';
import { checkDropout, checkSizes } from './pooling.js';

export interface CharCnnOptions {
  /** Characters in the char vocabulary ([PAD] = 0, [UNK] = 1 as Vocab.build puts them). */
  vocabSize: number;
  /** Character embedding size. */
  dim: number;
  /** Convolution filters: the size of a word's character vector. */
  filters: number;
  /** Characters per window (odd, so that with padding every character is a window centre). */
  width: number;
  dropout: number;
}

export class CharCnn extends Module {
  readonly embedding: Embedding;
  readonly conv: Conv1d;
  private readonly drop: Dropout;

  constructor(readonly options: CharCnnOptions) {
    super();
    const { vocabSize, dim, filters, width } = options;
    checkSizes('char_features', { vocabSize, dim, filters, width });
    checkDropout('char_features', options.dropout);
    if (width % 2 !== 1) throw new UserError(`model.char_features.width: must be odd, got ${width}`);
    this.embedding = this.child('embedding', new Embedding(vocabSize, dim, { paddingIdx: 0 }));
    this.conv = this.child('conv', new Conv1d(dim, filters, width, (width - 1) / 2));
    this.drop = this.child('dropout', new Dropout(options.dropout));
  }

  /** char ids [B, T, C] → word features [B, T, filters]. */
  forward(charIds: Tensor): Tensor {
    const [b, t, c] = charIds.shape;
    const x = this.drop.forward(this.embedding.forward(charIds.reshape(b * t, c))); // [B·T, C, E]
    const windows = this.conv.forward(x.transpose(1, 2)); // [B·T, F, C]
    // tanh is monotone, so tanh(max) = max(tanh) at a C-th of the cost.
    return windows.maxDim(2).values.tanh().reshape(b, t, this.options.filters);
  }
}

/** An encoder's word embeddings [B, T, E] with each word's character features appended when it has a char CNN. */
export function withCharFeatures(
  words: Tensor,
  charCnn: CharCnn | undefined,
  charIds: Tensor | undefined,
): Tensor {
  if (!charCnn) return words;
  if (!charIds)
    throw new Error('char features: this encoder reads character ids (charIds) beside the word ids');
  return cat([words, charCnn.forward(charIds)], 2);
}
