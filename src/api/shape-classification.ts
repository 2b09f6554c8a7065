/**
 * Classifier predictions in the Hugging Face `text-classification` shape: `[{label, score}]` sorted by
 * score. Single-label: the topK best (1 by default, all with `topK: null`). Multi-label: every label at or
 * above the threshold (default: the model's own decision), as HF's multi-label pipelines answer.
 */
import type { ClassificationPrediction } from '../tasks/classification.js';

export interface LabelScore {
  label: string;
  score: number;
}

export interface ClassificationShapeOptions {
  /** How many labels to return, best first; null for all. Default 1 (single-label tasks). */
  topK?: number | null;
  /** Multi-label: the probability a label needs to be returned (default: the labels the model predicts). */
  threshold?: number;
}

export function shapeClassification(
  p: ClassificationPrediction,
  labels: readonly string[],
  multiLabel: boolean,
  opts: ClassificationShapeOptions = {},
): LabelScore[] {
  const all = labels
    .map((label, i) => ({ label, score: p.probabilities[i] }))
    .sort((a, b) => b.score - a.score);
  if (multiLabel) {
    const chosen =
      opts.threshold === undefined
        ? all.filter((x) => p.labels.includes(x.label))
        : all.filter((x) => x.score >= opts.threshold!);
    return opts.topK ? chosen.slice(0, opts.topK) : chosen;
  }
  const k = opts.topK === undefined ? 1 : opts.topK;
  return k === null ? all : all.slice(0, k);
}
