/**
 * A Transformer decoder: causal self-attention, optional cross-attention over an encoder's output, and
 * a feed-forward block per layer, with the output projection tied to the token embedding. Without
 * cross-attention it is a causal (GPT-style) language model; with it, the decoder half of a seq2seq
 * model.
 *
 * Layers are pre-LayerNorm (normalise, transform, add), with a final LayerNorm: small decoders trained
 * from scratch converge reliably this way without the careful warm-up post-LN needs (Xiong et al. 2020).
 *
 * Parameter names: `embed_tokens.weight`, `embed_positions.weight`, `layers.{i}.self_attn.{query,key,
 * value,output}.*`, `layers.{i}.self_attn_norm.*`, `layers.{i}.cross_attn.*`, `layers.{i}.cross_attn_norm.*`,
 * `layers.{i}.ffn_in.*`, `layers.{i}.ffn_out.*`, `layers.{i}.ffn_norm.*`, `layer_norm.*`, `output_bias`.
 */
import { arange, full, zeros } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Embedding } from '../engine/nn/embedding.js';
import { LayerNorm } from '../engine/nn/layer-norm.js';
import { Linear } from '../engine/nn/linear.js';
import { Module, ModuleDict } from '../engine/nn/module.js';
import { noGrad } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';

export interface DecoderOptions {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  ffnSize: number;
  /** Longest sequence the position table covers. */
  maxPositions: number;
  dropout?: number;
  /** Attend to an encoder's output (seq2seq); false for a language model. */
  crossAttention: boolean;
  paddingIdx?: number;
}

const INIT_STD = 0.02;
/** Added to attention scores that must get no weight: finite, so a fully masked row stays NaN-free. */
const MASKED = -1e9;

function initLinear(inF: number, outF: number): Linear {
  const l = new Linear(inF, outF);
  noGrad(() => {
    l.weight.normal_(0, INIT_STD);
    l.bias!.fill_(0);
  });
  return l;
}

/** [1, 1, T, T]: 0 on and below the diagonal, a large negative above (no looking ahead). */
export function causalBias(time: number): Tensor {
  return full([time, time], MASKED).triu(1).unsqueeze(0).unsqueeze(0);
}

/** [B, 1, 1, S] from a key mask bool [B, S]: 0 at real tokens, a large negative at padding. */
export function paddingBias(mask: Tensor): Tensor {
  return mask.logicalNot().float().mul(MASKED).unsqueeze(1).unsqueeze(1);
}

/** Multi-head scaled dot-product attention with its four projections. */
export class MultiHeadAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly output: Linear;
  private readonly headDim: number;

  constructor(
    hidden: number,
    readonly numHeads: number,
    private readonly dropoutP: number,
  ) {
    super();
    if (hidden % numHeads !== 0)
      throw new Error(`hidden size ${hidden} is not divisible by ${numHeads} heads`);
    this.headDim = hidden / numHeads;
    this.query = this.child('query', initLinear(hidden, hidden));
    this.key = this.child('key', initLinear(hidden, hidden));
    this.value = this.child('value', initLinear(hidden, hidden));
    this.output = this.child('output', initLinear(hidden, hidden));
  }

  /** q [B,Tq,H] attends over kv [B,Tk,H]; bias broadcasts to [B,heads,Tq,Tk]. */
  forward(q: Tensor, kv: Tensor, bias: Tensor): Tensor {
    const [batch, tq, hidden] = q.shape;
    const tk = kv.size(1);
    const split = (t: Tensor, time: number) =>
      t.view(batch, time, this.numHeads, this.headDim).transpose(1, 2);
    const scores = split(this.query.forward(q), tq)
      .matmul(split(this.key.forward(kv), tk).mT)
      .mul(1 / Math.sqrt(this.headDim))
      .add(bias);
    const probs = F.dropout(scores.softmax(-1), this.dropoutP, this.training);
    const context = probs
      .matmul(split(this.value.forward(kv), tk))
      .transpose(1, 2)
      .reshape(batch, tq, hidden);
    return this.output.forward(context);
  }
}

class DecoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly selfNorm: LayerNorm;
  readonly crossAttn: MultiHeadAttention | null;
  readonly crossNorm: LayerNorm | null;
  readonly ffnIn: Linear;
  readonly ffnOut: Linear;
  readonly ffnNorm: LayerNorm;

  constructor(private readonly o: Required<DecoderOptions>) {
    super();
    const h = o.hiddenSize;
    this.selfAttn = this.child('self_attn', new MultiHeadAttention(h, o.numHeads, o.dropout));
    this.selfNorm = this.child('self_attn_norm', new LayerNorm(h));
    this.crossAttn = o.crossAttention
      ? this.child('cross_attn', new MultiHeadAttention(h, o.numHeads, o.dropout))
      : null;
    this.crossNorm = o.crossAttention ? this.child('cross_attn_norm', new LayerNorm(h)) : null;
    this.ffnIn = this.child('ffn_in', initLinear(h, o.ffnSize));
    this.ffnOut = this.child('ffn_out', initLinear(o.ffnSize, h));
    this.ffnNorm = this.child('ffn_norm', new LayerNorm(h));
  }

  forward(x: Tensor, selfBias: Tensor, memory?: Tensor, memoryBias?: Tensor): Tensor {
    const drop = (t: Tensor) => F.dropout(t, this.o.dropout, this.training);
    const n1 = this.selfNorm.forward(x);
    x = x.add(drop(this.selfAttn.forward(n1, n1, selfBias)));
    if (this.crossAttn && this.crossNorm) {
      if (!memory || !memoryBias) throw new Error('a cross-attention decoder needs the encoder output');
      x = x.add(drop(this.crossAttn.forward(this.crossNorm.forward(x), memory, memoryBias)));
    }
    const ffn = this.ffnOut.forward(this.ffnIn.forward(this.ffnNorm.forward(x)).gelu());
    return x.add(drop(ffn));
  }
}

/** The encoder side a cross-attending decoder reads: states [B,S,H] and their mask bool [B,S]. */
export interface DecoderMemory {
  states: Tensor;
  mask: Tensor;
}

export class TransformerDecoder extends Module {
  readonly options: Required<DecoderOptions>;
  readonly tokens: Embedding;
  readonly positions: Embedding;
  readonly layers: DecoderLayer[] = [];
  readonly finalNorm: LayerNorm;
  readonly outputBias: Tensor;

  constructor(options: DecoderOptions) {
    super();
    this.options = { dropout: 0.1, paddingIdx: 0, ...options };
    const o = this.options;
    this.tokens = this.child(
      'embed_tokens',
      new Embedding(o.vocabSize, o.hiddenSize, { std: INIT_STD, paddingIdx: o.paddingIdx }),
    );
    this.positions = this.child(
      'embed_positions',
      new Embedding(o.maxPositions, o.hiddenSize, { std: INIT_STD }),
    );
    const list = this.child('layers', new ModuleDict());
    for (let i = 0; i < o.numLayers; i++) this.layers.push(list.add(String(i), new DecoderLayer(o)));
    this.finalNorm = this.child('layer_norm', new LayerNorm(o.hiddenSize));
    this.outputBias = this.param('output_bias', zeros([o.vocabSize]));
  }

  /** Final hidden states [B,T,H] for target-side ids [B,T] (right-padded; causal, so padding is inert). */
  hidden(ids: Tensor, memory?: DecoderMemory): Tensor {
    const time = ids.size(1);
    if (time > this.options.maxPositions) {
      throw new Error(`sequence length ${time} is over the decoder's ${this.options.maxPositions} positions`);
    }
    let x = this.tokens.forward(ids).add(this.positions.forward(arange(time).unsqueeze(0)));
    x = F.dropout(x, this.options.dropout, this.training);
    const selfBias = causalBias(time);
    const memoryBias = memory ? paddingBias(memory.mask) : undefined;
    for (const layer of this.layers) x = layer.forward(x, selfBias, memory?.states, memoryBias);
    return this.finalNorm.forward(x);
  }

  /** Next-token logits [B,T,V]: the output projection is the token embedding, transposed. */
  project(hidden: Tensor): Tensor {
    return F.linear(hidden, this.tokens.weight, this.outputBias);
  }

  logits(ids: Tensor, memory?: DecoderMemory): Tensor {
    return this.project(this.hidden(ids, memory));
  }
}
