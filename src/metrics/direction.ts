/**
 * Which way a metric improves. Early stopping, the choice of best/, multi-task scoring, the advice's
 * Pareto front and the reports all read it, so it lives with the metrics rather than with one of them.
 */

/** Metrics where smaller is better; everything else (accuracy, F1, BLEU, AUC …) is maximised. */
export function lowerIsBetter(metric: string): boolean {
  return /loss|perplexity|ppl|mse|mae|rmse|error|^wer$|^cer$/i.test(metric);
}
