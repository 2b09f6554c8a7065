/**
 * Bag-of-words encoder, as ERNIE-Kit's BOW baseline: token embeddings pooled over the text (order is
 * ignored), squashed, then one ReLU layer. The fastest preset and a strong baseline for topic-like
 * classification, where which words occur matters more than their order.
 *
 * The `linear` variant is fastText's: the mean of the embeddings is the pooled vector, fed straight to the
 * classifier (with hashed n-gram rows after the vocabulary's, src/data/ngram-hash.ts), the fastest there is.
 *
 * With `tokenWeights` the bag is a weighted mean: each token (and n-gram) has a learned log-weight, starting
 * at 0 (weight 1, the plain mean), so that frequent words that say nothing about the class ("the", "of") can
 * fade and telling ones count more — the role idf plays in TF-IDF, learned instead of counted.
 *
 * Parameters: `embedding.weight`, unless linear `fc.weight`, `fc.bias`, and with tokenWeights
 * `token_weight.weight` [vocabSize, 1].
 */
import { Dropout } from '../engine/nn/dropout.js';
import { Embedding } from '../engine/nn/embedding.js';
import { Linear } from '../engine/nn/linear.js';
import { Module } from '../engine/nn/module.js';
import { noGrad } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import type { EncoderInput, EncoderOutput, TextEncoder } from './encoder.js';
import { checkDropout, checkSizes, maskedMean, maskedSum, weightedMean } from './pooling.js';

export interface BowOptions {
  vocabSize: number;
  embeddingDim: number;
  /** Width of the ReLU layer, which is the pooled size. */
  hiddenSize: number;
  /** Id of [PAD] (0 in vocabularies alembic builds); its embedding row stays zero. Default 0. */
  paddingIdx?: number;
  /** How token embeddings combine. 'mean' (default) keeps the scale independent of text length. */
  pooling?: 'sum' | 'mean';
  /** Squashing after pooling. 'softsign' (default, ERNIE-Kit's) saturates more gently than tanh. */
  activation?: 'softsign' | 'tanh';
  /** Dropout on the squashed bag before the ReLU layer (training only). Default 0. */
  dropout?: number;
  /** No squashing and no ReLU layer: the pooled bag is the output (pooledSize = embeddingDim). Default false. */
  linear?: boolean;
  /**
   * The last rows of the table are hashed n-grams (src/data/ngram-hash.ts). They start at zero, so that the
   * many a training run never updates add nothing to the bag instead of random noise. Default 0.
   */
  hashedRows?: number;
  /**
   * Standard deviation of the word rows' N(0, std²) start. Default 1 (libtorch's). Near 0 a word seen once
   * in training adds almost nothing to the bag instead of a random vector that training barely moved.
   */
  initStd?: number;
  /** A learned weight per row: the bag is Σ exp(s_i)·e_i / Σ exp(s_i) over the real tokens. Default false. */
  tokenWeights?: boolean;
}

export class BowEncoder extends Module implements TextEncoder {
  readonly options: Required<BowOptions>;
  readonly sequenceSize: number;
  readonly pooledSize: number;
  readonly embedding: Embedding;
  readonly fc: Linear | undefined;
  readonly tokenWeight: Embedding | undefined;
  private readonly drop: Dropout;

  constructor(options: BowOptions) {
    super();
    const o: Required<BowOptions> = {
      paddingIdx: 0,
      pooling: 'mean',
      activation: 'softsign',
      dropout: 0,
      linear: false,
      hashedRows: 0,
      tokenWeights: false,
      initStd: 1,
      ...options,
    };
    checkSizes('bow', { vocabSize: o.vocabSize, embeddingDim: o.embeddingDim, hiddenSize: o.hiddenSize });
    checkDropout('bow', o.dropout);
    this.options = o;
    this.embedding = this.child(
      'embedding',
      new Embedding(o.vocabSize, o.embeddingDim, { paddingIdx: o.paddingIdx, std: o.initStd }),
    );
    if (o.hashedRows > 0) {
      noGrad(() =>
        this.embedding.weight
          .slice(0, o.vocabSize - o.hashedRows, o.vocabSize)
          .fill_(0)
          .dispose(),
      );
    }
    this.tokenWeight = o.tokenWeights
      ? this.child('token_weight', new Embedding(o.vocabSize, 1, { paddingIdx: o.paddingIdx, std: 0 }))
      : undefined;
    this.fc = o.linear ? undefined : this.child('fc', new Linear(o.embeddingDim, o.hiddenSize));
    this.drop = this.child('dropout', new Dropout(o.dropout));
    this.sequenceSize = o.embeddingDim;
    this.pooledSize = o.linear ? o.embeddingDim : o.hiddenSize;
  }

  /** sequence: the token embeddings themselves (a bag has no context), [B, T, embeddingDim]. */
  encode({ ids, mask }: EncoderInput): EncoderOutput {
    const sequence = this.embedding.forward(ids);
    const bag = this.tokenWeight
      ? weightedMean(sequence, this.tokenWeight.forward(ids).squeeze(-1).exp(), mask)
      : this.options.pooling === 'sum'
        ? maskedSum(sequence, mask)
        : maskedMean(sequence, mask);
    if (!this.fc) return { sequence, pooled: this.drop.forward(bag) };
    const squashed = this.options.activation === 'tanh' ? bag.tanh() : softsign(bag);
    const pooled = this.fc.forward(this.drop.forward(squashed)).relu();
    return { sequence, pooled };
  }
}

/** x / (1 + |x|). */
export function softsign(x: Tensor): Tensor {
  return x.div(x.abs().add(1));
}
