/**
 * What every per-net exporter provides: given one text's inputs, the graph values of the encoder's per-token
 * sequence [batch, seq, sequenceSize] and pooled vector [batch, pooledSize] — the ONNX counterpart of
 * TextEncoder.encode (src/nets/encoder.ts). Both are made on first use, so a classification graph carries no
 * per-token branch it does not read (the CNN's token convolution) and a tagger no pooling.
 */
import type { OnnxGraphBuilder } from '../onnx/index.js';
import type { MaskViews, TextValues } from './graph-ops.js';

export interface EncodedGraph {
  sequence(): string;
  pooled(): string;
}

export interface EncoderGraph {
  /** `scope` names the nodes (`a`, `b` for the two sides of a siamese pair). Weights are shared across calls. */
  encode(text: TextValues, mask: MaskViews, scope: string): EncodedGraph;
}

/** Memoises the two lazy outputs, each built inside the call's scope. */
export function lazyEncoded(
  g: OnnxGraphBuilder,
  scope: string,
  build: { sequence: () => string; pooled: (sequence: () => string) => string },
): EncodedGraph {
  let sequence: string | undefined;
  let pooled: string | undefined;
  const seq = () => (sequence ??= g.scope(scope, build.sequence));
  return {
    sequence: seq,
    pooled: () => (pooled ??= g.scope(scope, () => build.pooled(seq))),
  };
}
