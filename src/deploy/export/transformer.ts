/**
 * Transformer encoder (src/nets/transformer.ts, post-LayerNorm BERT) as ONNX. Weights by their Hugging Face
 * BERT names: `embeddings.{word,position,token_type,task_type}_embeddings.weight`, `embeddings.LayerNorm.*`,
 * `encoder.layer.{i}.attention.self.{query,key,value}.*`, `…attention.output.{dense,LayerNorm}.*`,
 * `…intermediate.dense.*`, `…output.{dense,LayerNorm}.*`, `pooler.dense.*`.
 *
 * Self-attention is onnxruntime's fused com.microsoft Attention kernel (packed Q/K/V weights, the same −10000
 * for padding as the torch net) unless the builder is limited to standard ops (int8 exports, where the MatMuls
 * must stay visible to the quantiser): then MatMul/Softmax with the same padding bias. Position ids are
 * 0 … seq−1 (a slice of the position table), segment ids come from the `token_type_ids` input when the task
 * has one and are 0 otherwise, as in TransformerEncoder.
 */
import type { Activation, TransformerEncoder } from '../../nets/transformer.js';
import { int, str, type OnnxGraphBuilder } from '../onnx/index.js';
import { lazyEncoded, type EncoderGraph } from './encoder-graph.js';
import { cast, dimOf, maskedMean, unsqueeze, type MaskViews } from './graph-ops.js';
import type { StateReader, WeightArray } from './weights.js';

export function transformerGraph(
  g: OnnxGraphBuilder,
  encoder: TransformerEncoder,
  w: StateReader,
): EncoderGraph {
  const o = encoder.options;
  const headDim = o.hiddenSize / o.numHeads;
  const layerNorm = (x: string, name: string) =>
    g.layerNorm(x, w.tensor(g, `${name}.weight`), w.tensor(g, `${name}.bias`), {
      epsilon: o.layerNormEps,
      name,
    });
  /** Row 0 of an embedding table: what every position adds when the input carries no ids for it. */
  const firstRow = (name: string) =>
    w.derived(g, `${name}.row0`, () => {
      const t = w.read(name);
      return { data: t.data.slice(0, t.dims[1]), dims: [t.dims[1]] };
    });

  const embeddings = (ids: string, typeIds: string | undefined) =>
    g.scope('embeddings', () => {
      const words = g.gather(w.tensor(g, 'embeddings.word_embeddings.weight'), ids);
      const positions = g.op('Slice', [
        w.tensor(g, 'embeddings.position_embeddings.weight'),
        g.int64s([0], 'starts'),
        dimOf(g, ids, 1),
        g.int64s([0], 'axes'),
      ]); // [seq, hidden], broadcast over the batch
      let x = g.op('Add', [words, positions]);
      if (w.has('embeddings.token_type_embeddings.weight')) {
        const types =
          typeIds !== undefined
            ? g.gather(w.tensor(g, 'embeddings.token_type_embeddings.weight'), typeIds)
            : firstRow('embeddings.token_type_embeddings.weight');
        x = g.op('Add', [x, types]);
      }
      if (w.has('embeddings.task_type_embeddings.weight'))
        x = g.op('Add', [x, firstRow('embeddings.task_type_embeddings.weight')]);
      return layerNorm(x, 'embeddings.LayerNorm');
    });

  /**
   * Self-attention as onnxruntime's one com.microsoft Attention kernel: the Q/K/V projections packed into
   * one [hidden, 3·hidden] matrix, scores, padding mask (the same −10000 for a 0 in the raw mask), softmax
   * and context in one node instead of ~20. At batch 1 a node costs a few microseconds whatever its size,
   * so this matters most to small students.
   */
  const fusedAttention = (x: string, rawMask: string, p: string) =>
    g.scope('attention', () => {
      const self = `${p}.attention.self`;
      const parts = ['query', 'key', 'value'].map((n) => `${self}.${n}`);
      const weights = w.derived(g, `${self}.qkv.weight`, () =>
        packColumns(parts.map((n) => w.read(`${n}.weight`))),
      );
      const bias = w.derived(g, `${self}.qkv.bias`, () => {
        const data = Float32Array.from(parts.flatMap((n) => [...w.read(`${n}.bias`).data]));
        return { data, dims: [data.length] };
      });
      const options = { domain: 'com.microsoft' };
      const context = g.op('Attention', [x, weights, bias, rawMask], { num_heads: int(o.numHeads) }, options);
      return layerNorm(
        g.op('Add', [w.linear(g, context, `${p}.attention.output.dense`), x]),
        `${p}.attention.output.LayerNorm`,
      );
    });

  const attention = (x: string, maskBias: string, p: string) =>
    g.scope('attention', () => {
      const heads = (name: string, perm: number[]) =>
        g.op(
          'Transpose',
          [
            g.op('Reshape', [
              w.linear(g, x, `${p}.attention.self.${name}`),
              g.int64s([0, 0, o.numHeads, headDim]),
            ]),
          ],
          { perm },
        );
      const q = heads('query', [0, 2, 1, 3]); // [batch, heads, seq, headDim]
      const kT = heads('key', [0, 2, 3, 1]); // [batch, heads, headDim, seq]
      const v = heads('value', [0, 2, 1, 3]);
      const scores = g.op('Add', [
        g.op('Mul', [g.op('MatMul', [q, kT]), g.scalar(1 / Math.sqrt(headDim))]),
        maskBias,
      ]);
      const context = g.op('MatMul', [g.softmax(scores, -1), v]);
      const merged = g.op('Reshape', [
        g.op('Transpose', [context], { perm: [0, 2, 1, 3] }),
        g.int64s([0, 0, o.hiddenSize]),
      ]);
      return layerNorm(
        g.op('Add', [w.linear(g, merged, `${p}.attention.output.dense`), x]),
        `${p}.attention.output.LayerNorm`,
      );
    });

  const feedForward = (x: string, p: string) =>
    g.scope('ffn', () => {
      const inner = activate(g, w.linear(g, x, `${p}.intermediate.dense`), o.activation);
      return layerNorm(g.op('Add', [w.linear(g, inner, `${p}.output.dense`), x]), `${p}.output.LayerNorm`);
    });

  const paddingBias = (mask: MaskViews) =>
    g.scope('padding_bias', () => {
      // (1 − mask) · −10000, [batch, 1, 1, seq]
      const inverted = g.op('Sub', [g.scalar(1), mask.float]);
      return unsqueeze(g, g.op('Mul', [inverted, g.scalar(-10000)]), [1, 2]);
    });

  return {
    encode: (text, mask, scope) =>
      lazyEncoded(g, scope, {
        sequence: () => {
          let x = embeddings(text.ids, text.typeIds);
          // The fused kernel takes the raw 1/0 mask (int32); the standard ops take the additive −10000 bias.
          const fused = g.fusedKernels;
          const padding = fused ? cast(g, text.mask, 'int32') : paddingBias(mask);
          for (let i = 0; i < o.numLayers; i++) {
            const p = `encoder.layer.${i}`;
            x = g.scope(`layer.${i}`, () =>
              feedForward(fused ? fusedAttention(x, padding, p) : attention(x, padding, p), p),
            );
          }
          return x;
        },
        pooled: (sequence) =>
          g.scope('pooler', () => {
            const summary =
              o.pooling === 'mean'
                ? maskedMean(g, sequence(), mask)
                : g.op('Gather', [sequence(), g.constant(new BigInt64Array([0n]), [], 'zero')], {
                    axis: 1,
                  }); // [batch, hidden]
            return g.op('Tanh', [w.linear(g, summary, 'pooler.dense')]);
          }),
      }),
  };
}

/** The FFN activation, as TransformerEncoder's `activate`. */
function activate(g: OnnxGraphBuilder, x: string, act: Activation): string {
  switch (act) {
    case 'gelu':
      return g.gelu(x);
    case 'gelu_tanh':
      if (g.opset >= 20) return g.op('Gelu', [x], { approximate: str('tanh') });
      return g.scope('gelu_tanh', () => {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
        const inner = g.op('Mul', [
          g.op('Add', [x, g.op('Mul', [cube, g.scalar(0.044715)])]),
          g.scalar(Math.sqrt(2 / Math.PI)),
        ]);
        const onePlus = g.op('Add', [g.op('Tanh', [inner]), g.scalar(1)]);
        return g.op('Mul', [g.op('Mul', [x, onePlus]), g.scalar(0.5)]);
      });
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
  }
}

/** torch Linear weights [out_k, in] side by side as one [in, Σ out_k] MatMul operand. */
function packColumns(weights: WeightArray[]): WeightArray {
  const inDim = weights[0].dims[1];
  const width = weights.reduce((s, t) => s + t.dims[0], 0);
  const data = new Float32Array(inDim * width);
  let offset = 0;
  for (const t of weights) {
    const out = t.dims[0];
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inDim; i++) data[i * width + offset + o] = t.data[o * inDim + i];
    offset += out;
  }
  return { data, dims: [inDim, width] };
}
