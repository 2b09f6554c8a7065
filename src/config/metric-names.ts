/**
 * The dev metrics each task's evaluation reports, so a config naming one it does not (early stopping
 * on "macro_f1" for a language model, a typo like "macro-f1") fails when it is read, with the names that
 * do exist and the nearest one, instead of after the data is loaded and the model built.
 */
import { UserError } from '../util/errors.js';
import { didYouMean } from '../util/did-you-mean.js';

const SINGLE_LABEL = [
  'accuracy',
  'macro_f1',
  'macro_precision',
  'macro_recall',
  'micro_f1',
  'weighted_f1',
  'auc',
  'loss',
];
const RANKING = ['mrr', 'ndcg@1', 'ndcg@3', 'ndcg@5', 'ndcg@10'];

const METRICS: Record<string, readonly string[]> = {
  text_classification: SINGLE_LABEL,
  text_pair_classification: SINGLE_LABEL,
  multi_label_classification: [
    'micro_f1',
    'micro_precision',
    'micro_recall',
    'macro_f1',
    'example_f1',
    'subset_accuracy',
    'hamming_loss',
    'loss',
  ],
  // Chunk (entity) scores for B-/I- tags, token scores for plain tags; f1_<TYPE> per entity type.
  sequence_labeling: [
    'f1',
    'precision',
    'recall',
    'macro_f1',
    'macro_precision',
    'macro_recall',
    'accuracy',
    'loss',
  ],
  text_matching: ['accuracy', 'auc', 'pearson', 'spearman', 'pair_accuracy', 'loss', ...RANKING],
  reading_comprehension: [
    'f1',
    'exact_match',
    'has_answer_f1',
    'has_answer_exact_match',
    'no_answer_accuracy',
  ],
  text_generation: ['bleu', 'rouge_l', 'loss', 'perplexity'],
  language_model: ['perplexity', 'loss', 'tokens'],
};
const MASKED_LM = ['perplexity', 'loss', 'masked_accuracy', 'masked_tokens'];

/** The metrics a task reports on dev (a masked language model's differ from a causal one's). */
export function metricNames(task: string, objective?: 'causal' | 'masked'): readonly string[] {
  if (task !== 'language_model') return METRICS[task] ?? [];
  // Without an objective the config may be meant for `alembic pretrain`, which trains the masked one.
  if (objective === undefined) return [...new Set([...METRICS[task], ...MASKED_LM])];
  return objective === 'masked' ? MASKED_LM : METRICS[task];
}

/** Throws a UserError naming `where` when `metric` is not one the task reports. */
export function checkMetricName(
  metric: string | undefined,
  task: string,
  objective: 'causal' | 'masked' | undefined,
  where: string,
): void {
  if (metric === undefined) return;
  const names = metricNames(task, objective);
  if (names.includes(metric)) return;
  if (task === 'sequence_labeling' && /^f1_./.test(metric)) return;
  throw new UserError(
    `${where}: "${metric}" is not a ${task}${objective ? ` (${objective})` : ''} ` +
      `metric${didYouMean(metric, names)}; one of ${names.join(', ')}`,
  );
}
