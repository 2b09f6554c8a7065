/**
 * Which evaluation metrics suit which task, and the default when the spec names none. The guide asks for the
 * metric to be fixed before training starts (§3.1.2b); these defaults are alembic's, not the guide's.
 */
import type { MetricName } from './spec.js';
import type { TaskName } from './task-mapping.js';

const CLASSIFICATION: readonly MetricName[] = [
  'macro_f1',
  'accuracy',
  'macro_precision',
  'macro_recall',
  'auc',
];

/** Usual metrics per task, the default first; the names are the keys the trainer's evaluation reports. */
export const TASK_METRICS: Record<TaskName, readonly MetricName[]> = {
  text_classification: CLASSIFICATION,
  text_pair_classification: CLASSIFICATION,
  multi_label_classification: [
    'micro_f1',
    'macro_f1',
    'micro_precision',
    'micro_recall',
    'example_f1',
    'subset_accuracy',
  ],
  // Entity-level (chunk) precision/recall/F1.
  sequence_labeling: ['f1', 'precision', 'recall', 'accuracy'],
  text_matching: ['accuracy', 'auc', 'macro_f1', 'pearson', 'spearman'],
  reading_comprehension: ['f1', 'exact_match'],
  text_generation: ['bleu', 'rouge_l'],
  language_model: ['perplexity'],
};

export function defaultMetric(task: TaskName): MetricName {
  return TASK_METRICS[task][0];
}

export function metricFits(task: TaskName, metric: MetricName): boolean {
  return TASK_METRICS[task].includes(metric);
}

/** The metric a step is trained and early-stopped on: the spec's when it fits the task, else the default. */
export function metricFor(task: TaskName, specMetric: MetricName | undefined): MetricName {
  return specMetric !== undefined && metricFits(task, specMetric) ? specMetric : defaultMetric(task);
}
