/**
 * What a task family's exporter is: it writes the task's ONNX graph and, optionally, scores it on the dev
 * set. Apart from the registry in exporter.ts so the per-task exporters import it without a circle.
 */
import type { Module } from '../../engine/nn/module.js';
import type { AnyTask } from '../../tasks/registry.js';
import type { ModelManifest } from '../../train/model-dir.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';

/** A model as loadModelDir restores it. */
export interface ExportableModel {
  manifest: ModelManifest;
  task: AnyTask;
  model: Module;
}

/** How `export --int8` scores the float and the int8 graph on the dev set. */
export interface DevCheck {
  /** The name of what `score` computes, e.g. accuracy. */
  metric: string;
  /** The metric of predictions (the runtime's, for the examples devCheck was given, in order). */
  score(predictions: unknown[]): number;
  /** Whether two predictions for one example agree (the int8 agreement rate counts these). */
  agree(a: unknown, b: unknown): boolean;
}

export interface BuildOptions {
  /** Declare `token_type_ids` even for one-text inputs (Hugging Face's BERT input set; zeros are fed). */
  tokenTypeIds?: boolean;
}

export interface TaskExporter {
  /** Declares the graph's inputs and outputs (names from io.ts) and the nodes between them. */
  build(g: OnnxGraphBuilder, m: ExportableModel, opts?: BuildOptions): void;
  /** Dev-set scoring from the task's labelled examples (as its reader returns them); undefined when the
   *  dev data has no metric a prediction alone decides. */
  devCheck?(examples: unknown[]): DevCheck | undefined;
}
