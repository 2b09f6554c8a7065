/**
 * Has a classifier learnt anything? A model that predicts one class for every example, or whose accuracy
 * is no better than always answering the most frequent gold class, sits at chance. Training runs and
 * distillation reports use it to warn loudly instead of reporting a number that looks like a result.
 */

/** How far above the majority-class share accuracy must be to count as learnt. */
const CHANCE_MARGIN = 0.01;

export interface ChanceVerdict {
  /** The one class every prediction went to, when the predictions collapsed. */
  collapsedTo?: string;
  /** Accuracy of always answering the most frequent gold class. */
  majorityShare: number;
  accuracy: number;
  /** Collapsed, or accuracy within CHANCE_MARGIN of majorityShare. */
  atChance: boolean;
}

/** Reads a confusion matrix (confusion[gold][pred] = count, as classificationReport builds it). */
export function chanceVerdict(confusion: { labels: readonly string[]; matrix: number[][] }): ChanceVerdict {
  const m = confusion.matrix;
  const total = m.reduce((s, row) => s + row.reduce((a, b) => a + b, 0), 0);
  const predicted = m[0]?.map((_, c) => m.reduce((s, row) => s + row[c], 0)) ?? [];
  const used = predicted.map((n, c) => (n > 0 ? c : -1)).filter((c) => c >= 0);
  const majorityShare = total ? Math.max(...m.map((row) => row.reduce((a, b) => a + b, 0))) / total : 0;
  const accuracy = total ? m.reduce((s, row, i) => s + row[i], 0) / total : 0;
  const collapsedTo = total > 1 && used.length === 1 && m.length > 1 ? confusion.labels[used[0]] : undefined;
  return {
    collapsedTo,
    majorityShare,
    accuracy,
    atChance: collapsedTo !== undefined || accuracy <= majorityShare + CHANCE_MARGIN,
  };
}

/** The warning a user sees (console and reports), or undefined when the model is above chance. */
export function chanceWarning(v: ChanceVerdict, what: string): string | undefined {
  if (!v.atChance) return undefined;
  const share = (x: number) => `${(100 * x).toFixed(1)} %`;
  return v.collapsedTo !== undefined
    ? `${what} predicts one class ("${v.collapsedTo}") for every example: it has not learnt the task ` +
        `(accuracy ${share(v.accuracy)} = the share of that class)`
    : `${what} is at chance: accuracy ${share(v.accuracy)} against ${share(v.majorityShare)} for always ` +
        `answering the most frequent class`;
}
