/**
 * Reference throughput for the preset networks: the same shapes exported by PyTorch's own ONNX exporter
 * and run in onnxruntime-node with 2 threads, measured on this kind of machine (2 cores). alembic's own
 * graphs should reach 0.9× of them; a row without a reference shape prints no ratio. The same shapes are
 * also exported by PyTorch in the benchmark run itself (`sameRunReferences`), which a busy machine slows
 * down as much as alembic's graphs.
 */
import type { ModelConfig } from '../src/config/run-config.js';
import type { BenchRuntime, OnnxGraphSpec } from '../src/deploy/bench/model-bench.js';
import type { GroupReferences, ReferenceHook } from '../src/deploy/bench/run-bench.js';
import {
  exportTorchReference,
  quantizerUnavailable,
  quantizeTorchReference,
  torchReferenceUnavailable,
  type ReferenceNet,
} from './torch-reference.js';

export interface ReferenceFigures {
  name: string;
  /** The PyTorch module torch-reference.ts exports for a same-run comparison. */
  net: ReferenceNet;
  /** Inputs per second at batch 1 and at batch 32. */
  fp32: { 1: number; 32: number };
  int8?: { 1: number; 32: number };
  matches(net: string, model: ModelConfig, seq: number): boolean;
}

const sameList = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

export const REFERENCES: readonly ReferenceFigures[] = [
  {
    name: 'BOW emb 128 hidden 128, seq 64',
    net: 'bow',
    fp32: { 1: 39_000, 32: 543_000 },
    matches: (net, m, seq) => net === 'bow' && m.embedding_dim === 128 && m.hidden_size === 128 && seq === 64,
  },
  {
    name: 'CNN emb 128, 128 filters of widths 2/3/4, seq 64',
    net: 'cnn',
    fp32: { 1: 4_300, 32: 4_700 },
    matches: (net, m, seq) =>
      net === 'cnn' &&
      m.embedding_dim === 128 &&
      m.num_filters === 128 &&
      sameList(m.kernel_widths, [2, 3, 4]) &&
      seq === 64,
  },
  {
    name: 'Transformer 4 layers, hidden 256, seq 64',
    net: 'transformer',
    fp32: { 1: 266, 32: 310 },
    int8: { 1: 445, 32: 555 },
    matches: (net, m, seq) =>
      net === 'transformer' &&
      m.num_layers === 4 &&
      m.hidden_size === 256 &&
      m.num_heads === 4 &&
      m.ffn_size === 1024 &&
      seq === 64,
  },
];

/** The reference whose shape a model has, if any. */
export function referenceFor(net: string, model: ModelConfig, seq: number): ReferenceFigures | undefined {
  return REFERENCES.find((r) => r.matches(net, model, seq));
}

/** The reference QPS for one benchmark row, when its shape, runtime and batch size have one. */
export function referenceQps(
  net: string,
  model: ModelConfig,
  seq: number,
  runtime: BenchRuntime,
  batch: number,
): { qps: number; name: string } | undefined {
  if (runtime === 'libtorch' || (batch !== 1 && batch !== 32)) return undefined;
  const ref = referenceFor(net, model, seq);
  const figures = runtime === 'onnx-int8' ? ref?.int8 : ref?.fp32;
  return ref && figures ? { qps: figures[batch as 1 | 32], name: ref.name } : undefined;
}

/** Minimum share of the reference an alembic graph must reach. */
export const REFERENCE_RATIO = 0.9;
/** Minimum share of the model-only throughput `alembic serve` must keep over HTTP. */
export const HTTP_RATIO = 0.6;

/** A PyTorch-exported reference graph: ids and mask in, probabilities out. */
function referenceGraph(file: string): OnnxGraphSpec {
  const inputs = [
    { name: 'input_ids', dims: [] },
    { name: 'attention_mask', dims: [] },
  ];
  return { file, inputs, outputs: ['probabilities'] };
}

/**
 * The `references` hook of runBench: for a group of a reference shape, PyTorch's export of it (written into
 * `dir`) against the fp32 export and, when an int8 export is timed, onnxruntime's quantize_dynamic of it at
 * the same weight bits; a note says why one could not be made.
 */
export function sameRunReferences(dir: string): ReferenceHook {
  return (group, log) => {
    const ref = referenceFor(group.net, group.model, group.seq);
    if (!ref) return undefined;
    const out: GroupReferences = { name: ref.name, graphs: {}, notes: [] };
    const why = torchReferenceUnavailable();
    if (why) return { ...out, notes: [`no same-run reference: ${why}`] };
    log(`exporting the PyTorch version of ${ref.name} for a same-run comparison…`);
    try {
      const file = exportTorchReference(ref.net, group.targets[0].vocabSize, dir);
      out.graphs['onnx-fp32'] = { graph: referenceGraph(file), label: 'pytorch-exported' };
      const int8 = group.targets.find((t) => t.runtime === 'onnx-int8');
      const noQuantizer = int8 && quantizerUnavailable();
      if (noQuantizer) out.notes!.push(`no same-run int8 reference: ${noQuantizer}`);
      else if (int8) {
        const bits = int8.manifest.onnx?.int8WeightBits ?? 8;
        log(`quantising it with onnxruntime's quantize_dynamic (${bits}-bit weights)…`);
        out.graphs['onnx-int8'] = {
          graph: referenceGraph(quantizeTorchReference(file, bits)),
          label: 'pytorch-exported int8',
        };
      }
    } catch (e) {
      return { ...out, graphs: {}, notes: [`no same-run reference: ${(e as Error).message}`] };
    }
    return out;
  };
}
