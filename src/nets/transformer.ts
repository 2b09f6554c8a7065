/**
 * A BERT/ERNIE-style Transformer encoder (post-LayerNorm, learned positions, [CLS] or mean pooler).
 *
 * Parameter names are Hugging Face BERT's without the model prefix
 * (`encoder.layer.0.attention.self.query.weight`), so a real BERT/ERNIE checkpoint loads by name
 * through checkpoint-names.ts. Each layer can hand back its query/key/value projections, which the
 * MiniLM-style relation distillation needs.
 */
import { arange, full } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Embedding } from '../engine/nn/embedding.js';
import { LayerNorm } from '../engine/nn/layer-norm.js';
import { Linear } from '../engine/nn/linear.js';
import { Module, ModuleDict } from '../engine/nn/module.js';
import { noGrad } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import type { EncoderInput, EncoderOutput, TextEncoder } from './encoder.js';
import { firstToken, maskedMean } from './pooling.js';

export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

export interface TransformerOptions {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  ffnSize: number;
  maxPositions?: number;
  typeVocabSize?: number;
  /** ERNIE 3.0's task-type embedding (0 = none). */
  taskTypeVocabSize?: number;
  dropout?: number;
  attentionDropout?: number;
  layerNormEps?: number;
  activation?: Activation;
  paddingIdx?: number;
  /**
   * What the pooler reads: the [CLS] position (BERT), or the mean of the real tokens. An encoder pre-trained
   * with masked-LM alone never trained [CLS] to summarise the text, while every token's state was trained;
   * the mean is also steadier from scratch on small data. Either way the pooler's dense + tanh follows, so
   * checkpoints keep BERT's names and shapes.
   */
  pooling?: TransformerPooling;
}

export type TransformerPooling = 'cls' | 'mean';

/** What one layer computed, for distillation: the projections before splitting into heads. */
export interface LayerTrace {
  query: Tensor;
  key: Tensor;
  value: Tensor;
  output: Tensor;
}

export interface TransformerOutput extends EncoderOutput {
  /** Present when encode() was asked to trace: one entry per layer, in order. */
  layers?: LayerTrace[];
}

// Weights start N(0, 0.02²) with zero biases and unit LayerNorms, as BERT does.
const INIT_STD = 0.02;

function bertLinear(inF: number, outF: number): Linear {
  const l = new Linear(inF, outF);
  noGrad(() => {
    l.weight.normal_(0, INIT_STD);
    l.bias!.fill_(0);
  });
  return l;
}

class Embeddings extends Module {
  readonly word: Embedding;
  readonly position: Embedding;
  readonly tokenType: Embedding | null;
  readonly taskType: Embedding | null;
  readonly norm: LayerNorm;

  constructor(private readonly o: Required<TransformerOptions>) {
    super();
    this.word = this.child('word_embeddings', new Embedding(o.vocabSize, o.hiddenSize, { std: INIT_STD }));
    this.position = this.child(
      'position_embeddings',
      new Embedding(o.maxPositions, o.hiddenSize, { std: INIT_STD }),
    );
    this.tokenType =
      o.typeVocabSize > 0
        ? this.child('token_type_embeddings', new Embedding(o.typeVocabSize, o.hiddenSize, { std: INIT_STD }))
        : null;
    this.taskType =
      o.taskTypeVocabSize > 0
        ? this.child(
            'task_type_embeddings',
            new Embedding(o.taskTypeVocabSize, o.hiddenSize, { std: INIT_STD }),
          )
        : null;
    this.norm = this.child('LayerNorm', new LayerNorm(o.hiddenSize, o.layerNormEps));
  }

  forward(ids: Tensor, typeIds?: Tensor): Tensor {
    const [batch, time] = ids.shape;
    if (time > this.position.numEmbeddings) {
      throw new Error(`sequence length ${time} is over the model's ${this.position.numEmbeddings} positions`);
    }
    let x = this.word.forward(ids).add(this.position.forward(arange(time).unsqueeze(0)));
    if (this.tokenType) x = x.add(this.tokenType.forward(typeIds ?? full([batch, time], 0, 'int64')));
    if (this.taskType) x = x.add(this.taskType.forward(full([batch, time], 0, 'int64')));
    return F.dropout(this.norm.forward(x), this.o.dropout, this.training);
  }
}

class SelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;

  constructor(
    hidden: number,
    readonly numHeads: number,
  ) {
    super();
    this.query = this.child('query', bertLinear(hidden, hidden));
    this.key = this.child('key', bertLinear(hidden, hidden));
    this.value = this.child('value', bertLinear(hidden, hidden));
  }
}

class Layer extends Module {
  readonly self: SelfAttention;
  readonly attnOut: Linear;
  readonly attnNorm: LayerNorm;
  readonly ffnIn: Linear;
  readonly ffnOut: Linear;
  readonly ffnNorm: LayerNorm;
  private readonly headDim: number;

  constructor(private readonly o: Required<TransformerOptions>) {
    super();
    const attention = this.child('attention', new ModuleDict());
    this.self = attention.add('self', new SelfAttention(o.hiddenSize, o.numHeads));
    const attnOutput = attention.add('output', new ModuleDict());
    this.attnOut = attnOutput.add('dense', bertLinear(o.hiddenSize, o.hiddenSize));
    this.attnNorm = attnOutput.add('LayerNorm', new LayerNorm(o.hiddenSize, o.layerNormEps));
    this.ffnIn = this.child('intermediate', new ModuleDict()).add(
      'dense',
      bertLinear(o.hiddenSize, o.ffnSize),
    );
    const output = this.child('output', new ModuleDict());
    this.ffnOut = output.add('dense', bertLinear(o.ffnSize, o.hiddenSize));
    this.ffnNorm = output.add('LayerNorm', new LayerNorm(o.hiddenSize, o.layerNormEps));
    this.headDim = o.hiddenSize / o.numHeads;
  }

  /** x [B,T,H]; maskBias [B,1,1,T] with 0 for tokens and a large negative for padding. */
  forward(x: Tensor, maskBias: Tensor, trace?: LayerTrace[]): Tensor {
    const [batch, time, hidden] = x.shape;
    const heads = this.o.numHeads;
    const q = this.self.query.forward(x);
    const k = this.self.key.forward(x);
    const v = this.self.value.forward(x);
    const split = (t: Tensor) => t.view(batch, time, heads, this.headDim).transpose(1, 2);
    const scores = split(q)
      .matmul(split(k).mT)
      .mul(1 / Math.sqrt(this.headDim))
      .add(maskBias);
    const probs = F.dropout(scores.softmax(-1), this.o.attentionDropout, this.training);
    const context = probs.matmul(split(v)).transpose(1, 2).reshape(batch, time, hidden);
    const attended = this.attnNorm.forward(
      F.dropout(this.attnOut.forward(context), this.o.dropout, this.training).add(x),
    );
    const ffn = this.ffnOut.forward(activate(this.ffnIn.forward(attended), this.o.activation));
    const out = this.ffnNorm.forward(F.dropout(ffn, this.o.dropout, this.training).add(attended));
    trace?.push({ query: q, key: k, value: v, output: out });
    return out;
  }
}

function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'gelu':
      return x.gelu();
    case 'gelu_tanh':
      return x.gelu('tanh');
    case 'relu':
      return x.relu();
    case 'silu':
      return x.mul(x.sigmoid());
  }
}

export class TransformerEncoder extends Module implements TextEncoder {
  readonly options: Required<TransformerOptions>;
  readonly embeddings: Embeddings;
  readonly layers: Layer[] = [];
  readonly pooler: Linear;

  constructor(options: TransformerOptions) {
    super();
    if (options.hiddenSize % options.numHeads !== 0) {
      throw new Error(`hidden size ${options.hiddenSize} is not divisible by ${options.numHeads} heads`);
    }
    this.options = {
      maxPositions: 512,
      typeVocabSize: 2,
      taskTypeVocabSize: 0,
      dropout: 0.1,
      attentionDropout: 0.1,
      layerNormEps: 1e-12,
      activation: 'gelu',
      paddingIdx: 0,
      pooling: 'cls',
      ...options,
    };
    this.embeddings = this.child('embeddings', new Embeddings(this.options));
    const layerList = this.child('encoder', new ModuleDict()).add('layer', new ModuleDict());
    for (let i = 0; i < this.options.numLayers; i++)
      this.layers.push(layerList.add(String(i), new Layer(this.options)));
    this.pooler = this.child('pooler', new ModuleDict()).add(
      'dense',
      bertLinear(this.options.hiddenSize, this.options.hiddenSize),
    );
  }

  get sequenceSize(): number {
    return this.options.hiddenSize;
  }

  get pooledSize(): number {
    return this.options.hiddenSize;
  }

  encode(input: EncoderInput, { trace = false }: { trace?: boolean } = {}): TransformerOutput {
    // Padding gets −1e4 before the softmax (BERT's choice; finite, so fully padded rows stay NaN-free).
    const maskBias = input.mask.logicalNot().float().mul(-10000).unsqueeze(1).unsqueeze(1);
    let x = this.embeddings.forward(input.ids, input.typeIds);
    const layers: LayerTrace[] | undefined = trace ? [] : undefined;
    for (const layer of this.layers) x = layer.forward(x, maskBias, layers);
    const summary = this.options.pooling === 'mean' ? maskedMean(x, input.mask) : firstToken(x);
    const pooled = this.pooler.forward(summary).tanh();
    return { sequence: x, pooled, layers };
  }
}
