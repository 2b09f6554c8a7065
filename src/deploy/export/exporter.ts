/**
 * Task name → the exporter that writes its graph. Each task family adds one entry (and a runtime in
 * runtimes.ts that feeds the graph and reads its outputs); the per-net encoder graphs (encoders.ts) are
 * shared by all of them.
 */
import { UserError } from '../../util/errors.js';
import {
  OnnxGraphBuilder,
  quantizeDynamic,
  type QuantizeOptions,
  type QuantizeReport,
} from '../onnx/index.js';
import { classificationExporter } from './classification.js';
import { checkHfExportable, HF_MODEL_ONNX } from './hf-layout-export.js';
import type { OnnxSection } from './io.js';
import type { ExportableModel, TaskExporter } from './task-exporter.js';
import { matchingExporter } from './matching.js';
import { readingComprehensionExporter } from './reading-comprehension.js';
import { sequenceLabelingExporter } from './sequence-labeling.js';

const EXPORTERS: Record<string, TaskExporter> = {
  text_classification: classificationExporter,
  text_pair_classification: classificationExporter,
  multi_label_classification: classificationExporter,
  sequence_labeling: sequenceLabelingExporter,
  text_matching: matchingExporter,
  reading_comprehension: readingComprehensionExporter,
};

export function exporterFor(task: string): TaskExporter {
  const e = EXPORTERS[task];
  if (!e) {
    throw new UserError(
      `export: task "${task}" has no ONNX exporter yet (exportable: ${Object.keys(EXPORTERS).join(', ')})`,
    );
  }
  return e;
}

export const MODEL_ONNX = 'model.onnx';

export interface ExportOptions {
  /** Default 17 (LayerNormalization); 13–16 work for the nets without LayerNorm. */
  opset?: number;
  int8?: boolean;
  /**
   * Use onnxruntime's fused kernels (the Transformer's self-attention as one com.microsoft Attention node).
   * Default: yes, except with int8 — the int8 pass quantises MatMul weights, and the packed Q/K/V weights of
   * the fused kernel would stay float.
   */
  fusedKernels?: boolean;
  /**
   * "alembic" (default): model.onnx beside alembic-model.json. "hf": Hugging Face's export layout,
   * onnx/model.onnx with input_ids, attention_mask, token_type_ids → logits, plus config.json,
   * tokenizer.json and tokenizer_config.json (hf-layout-export.ts; Transformer classifiers only).
   */
  layout?: 'alembic' | 'hf';
  /** Passed to quantizeDynamic (tests lower minElements to quantise tiny models). */
  quantize?: QuantizeOptions;
}

export interface ExportedModel {
  bytes: Uint8Array;
  section: OnnxSection;
  /** What --int8 quantised (undefined without it). */
  quantized?: QuantizeReport;
}

/** Builds, optionally quantises, and serialises the model's graph. */
export function exportModel(m: ExportableModel, opts: ExportOptions = {}): ExportedModel {
  const opset = opts.opset ?? 17;
  let g: OnnxGraphBuilder;
  try {
    g = new OnnxGraphBuilder(`alembic_${m.manifest.task}_${m.manifest.net}`, {
      opset,
      fusedKernels: opts.fusedKernels ?? !opts.int8,
    });
  } catch (e) {
    throw new UserError(`export: --opset: ${(e as Error).message}`);
  }
  m.model.eval();
  try {
    if (opts.layout === 'hf') checkHfExportable(m);
    exporterFor(m.manifest.task).build(g, m, { tokenTypeIds: opts.layout === 'hf' });
  } catch (e) {
    if (e instanceof Error && /needs opset/.test(e.message)) throw new UserError(`export: ${e.message}`);
    throw e;
  }
  const quantized = opts.int8 ? quantizeDynamic(g, opts.quantize) : undefined;
  const int8 = (quantized?.quantized.length ?? 0) > 0;
  const bytes = g.toModel({
    docString: `alembic ${m.manifest.task} (${m.manifest.net})`,
    metadata: { 'alembic.task': m.manifest.task, 'alembic.net': m.manifest.net },
  });
  const section: OnnxSection = {
    file: opts.layout === 'hf' ? HF_MODEL_ONNX : MODEL_ONNX,
    opset,
    // With nothing large enough to quantise the graph is the fp32 one, and says so.
    int8,
    ...(int8 ? { int8WeightBits: opts.quantize?.reduceRange ? (7 as const) : (8 as const) } : {}),
    inputs: g.inputs.map((v) => ({ name: v.name, type: v.type, dims: [...v.dims] })),
    outputs: g.outputs.map((v) => ({ name: v.name, type: v.type, dims: [...v.dims] })),
  };
  return { bytes, section, quantized };
}
