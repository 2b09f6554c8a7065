/**
 * Dynamic int8 quantisation of MatMul weights, the scheme onnxruntime's `quantize_dynamic` applies: weights
 * are stored as int8 with float scales, activations are quantised to uint8 per call at run time, and the
 * product is computed in integers and rescaled to float. It works on a builder graph before serialisation,
 * so an exporter calls `quantizeDynamic(g)` between building and `g.toModel()`.
 *
 * A MatMul qualifies when its B input is a 2-D float32 initializer of at least `minElements` values. It
 * becomes DynamicQuantizeLinear(A) → MatMulInteger → Cast → Mul(a_scale · b_scale): standard ONNX ops only,
 * so the file runs on any ONNX runtime. onnxruntime (optimisation level 'all', our session default) fuses the
 * chain — and a following bias Add — into its one com.microsoft DynamicQuantizeMatMul kernel; emitting that
 * contrib op directly measured the same speed, so there is nothing to gain from the non-standard form.
 *
 * Choices, measured with onnxruntime-node 1.30 on this project's x86 CPU (AVX2, no VNNI), 1 thread, on a
 * 256→1024→1024→1024→256 ReLU MLP; median ms per call at batch 1 / 8 / 64, fp32 0.33 / 1.06 / 4.69:
 * - Symmetric int8 weights (zero point 0): asymmetric uint8 weights ran ~1.4× slower at batch ≥ 8 (the U8U8
 *   kernel) for no accuracy gain over the choice below.
 * - Per-column scales: the same speed as one scale per tensor (the scale multiplies each output column of the
 *   int32 accumulator either way), and a column of small weights keeps its resolution.
 * - Full 8-bit range [-127, 127] by default, and every session alembic opens sets
 *   `session.x64quantprecision=1` (session.ts). Why: onnxruntime's fast U8S8 kernel on x86 CPUs without
 *   VNNI (AVX2, AVX-512 before Cascade Lake, AMD before Zen 4) uses VPMADDUBSW, which saturates a pair of
 *   uint8·int8 products at int16 (255·127·2 > 32767): full-range weights without the option gave 14–19 %
 *   relative output error. With it such CPUs run an exact kernel: 0.115 / 0.40 / 2.91 ms (1.6–2.9× faster
 *   than fp32), 1.2 % output error on the MLP above; VNNI CPUs ignore the option and are exact anyway.
 * - `reduceRange: true` stores 7-bit weights [-63, 63] instead, which cannot saturate, so the fast kernel is
 *   exact on every CPU with any session settings: 0.092 / 0.33 / 2.27 ms (2.1–3.6× faster than fp32) but
 *   1.8 % output error. It is the choice for a model served by a runtime alembic does not configure; the
 *   default keeps the accuracy (on random 256-wide MLP classifiers, 7-bit weights agreed with fp32 on argmax
 *   for 97.8–99.3 % of random inputs, 8-bit for 98.9–99.7 %).
 * - minElements 16384 (128×128): below that, quantising the activations per call costs what the integer
 *   matmul saves (no gain measured at 64×64), and the layers there (small classifier heads) are where float
 *   precision matters most.
 */
import { int } from './attributes.js';
import { DataType } from './schema.js';
import type { OnnxGraphBuilder, OnnxInitializer, OnnxNode } from './graph-builder.js';

export interface QuantizeOptions {
  /** Smallest weight (in elements) worth quantising; smaller MatMuls stay float. Default 16384. */
  minElements?: number;
  /** One scale per output column (default) rather than one for the whole matrix. */
  perChannel?: boolean;
  /** 7-bit weights [-63, 63] rather than the default [-127, 127]; see the header for when. */
  reduceRange?: boolean;
  /** Weights (by initializer name) to keep in float even though they qualify. */
  skip?: (weightName: string) => boolean;
}

export interface QuantizeReport {
  /** Names of the float weights replaced by int8 ones. */
  quantized: string[];
  /** Bytes of those weights as float32, and as int8 plus scales and zero points. */
  bytesBefore: number;
  bytesAfter: number;
}

export interface QuantizedWeight {
  data: Int8Array;
  /** One scale per column with perChannel, else one; w ≈ data · scale. */
  scales: Float32Array;
}

/** Symmetric int8 quantisation of a row-major [k, n] float matrix. */
export function quantizeWeight(
  w: Float32Array,
  k: number,
  n: number,
  opts: { perChannel: boolean; reduceRange: boolean },
): QuantizedWeight {
  const qmax = opts.reduceRange ? 63 : 127;
  const group = (j: number) => (opts.perChannel ? j : 0);
  const absMax = new Float32Array(opts.perChannel ? n : 1);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) {
      const a = Math.abs(w[i * n + j]);
      if (a > absMax[group(j)]) absMax[group(j)] = a;
    }
  }
  // An all-zero column gets scale 1 so the rescale stays finite; its int8 values are 0 whatever the scale.
  const scales = absMax.map((m) => (m > 0 ? m / qmax : 1));
  const data = new Int8Array(k * n);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) {
      const q = Math.round(w[i * n + j] / scales[group(j)]);
      data[i * n + j] = q > qmax ? qmax : q < -qmax ? -qmax : q;
    }
  }
  return { data, scales };
}

function quantizableWeight(g: OnnxGraphBuilder, node: OnnxNode, opts: Required<QuantizeOptions>) {
  if (node.opType !== 'MatMul' || node.domain !== '') return undefined;
  const b: OnnxInitializer | undefined = g.getInitializer(node.inputs[1]);
  if (!b || !(b.data instanceof Float32Array) || b.dims.length !== 2) return undefined;
  if (b.data.length < opts.minElements || opts.skip(b.name)) return undefined;
  return b as OnnxInitializer & { data: Float32Array };
}

/** Rewrites qualifying MatMuls of `g` in place; returns what it quantised. */
export function quantizeDynamic(g: OnnxGraphBuilder, options: QuantizeOptions = {}): QuantizeReport {
  const opts: Required<QuantizeOptions> = {
    minElements: options.minElements ?? 16384,
    perChannel: options.perChannel ?? true,
    reduceRange: options.reduceRange ?? false,
    skip: options.skip ?? (() => false),
  };
  const report: QuantizeReport = { quantized: [], bytesBefore: 0, bytesAfter: 0 };
  const quantizedByWeight = new Map<string, { wq: string; scale: string; zeroPoint: string }>();
  for (const mm of [...g.nodes]) {
    const b = quantizableWeight(g, mm, opts);
    if (!b) continue;
    const [k, n] = b.dims;
    let q = quantizedByWeight.get(b.name); // a weight shared by several MatMuls is stored once
    if (!q) {
      const { data, scales } = quantizeWeight(b.data, k, n, opts);
      const scaleDims = opts.perChannel ? [n] : [];
      q = {
        wq: g.initializer(g.uniqueName(`${b.name}_quantized`), data, [k, n]),
        scale: g.initializer(g.uniqueName(`${b.name}_scale`), scales, scaleDims),
        zeroPoint: g.initializer(
          g.uniqueName(`${b.name}_zero_point`),
          new Int8Array(scales.length),
          scaleDims,
        ),
      };
      quantizedByWeight.set(b.name, q);
      report.quantized.push(b.name);
      report.bytesBefore += b.data.byteLength;
      report.bytesAfter += data.byteLength + scales.byteLength + scales.length;
    }
    const { wq, scale, zeroPoint } = q;
    g.replaceNode(mm, () =>
      g.scope(mm.name, () => {
        const [aq, aScale, aZero] = g.node('DynamicQuantizeLinear', [mm.inputs[0]], 3);
        const acc = g.op('MatMulInteger', [aq, wq, aZero, zeroPoint]);
        const accFloat = g.op('Cast', [acc], { to: int(DataType.FLOAT) });
        g.node('Mul', [accFloat, g.op('Mul', [aScale, scale])], mm.outputs);
      }),
    );
    if (g.consumers(b.name).length === 0 && !g.outputs.some((o) => o.name === b.name))
      g.removeInitializer(b.name);
  }
  if (report.quantized.length > 0) {
    g.setMetadata(
      'alembic.quantization',
      opts.reduceRange
        ? 'dynamic int8, 7-bit weights: exact with any session settings'
        : 'dynamic int8, 8-bit weights: on x86 CPUs without VNNI serve with session option session.x64quantprecision=1',
    );
  }
  return report;
}
