/**
 * The guide's thresholds, each with the section it comes from. Its own module because both the rules
 * (rules.ts) and the scheme builder (scheme.ts) read them, and rules.ts reads the scheme's types.
 */
/** Every number the advice uses, with where it comes from. */
export const GUIDE_LIMITS = {
  /** §4.1: qps > 1000 → do not deploy a pretrained Transformer directly; distil. Strict. */
  distilAboveQps: 1000,
  /** §4.1: qps > 100 → tiny Transformer on GPU, or a CPU cluster. Strict. */
  tinyAboveQps: 100,
  /** §4.5.4a: each label needs at least 200 examples (50 classes → 10,000). Inclusive. */
  minExamplesPerLabel: 200,
  /** §4.5.3: a pretrained Transformer converges with "a few thousand to tens of thousands" (几千至几万). */
  pretrainedMinExamples: 1_000,
  /** §4.5.3a: "several million or more" (数百万条以上) is not worth a Transformer's training time. */
  pretrainedMaxExamples: 1_000_000,
  /** alembic's sample size when the Transformer should not see everything: the top of "tens of thousands". */
  pretrainedSample: 100_000,
  /** alembic's reading of §4.5.3a's exception "users with enough GPUs": this many cards in all. */
  ampleGpus: 4,
  /** §4.5.2: non-pretrained nets need "tens of thousands to millions" (几万至几百万). */
  scratchMinExamples: 10_000,
  /** §4.5.3b, §4.6.2c: validate a baseline on "tens of thousands" first; above this, start on a sample. */
  baselineAbove: 100_000,
  baselineSample: 50_000,
  /** §4.4.1a: "tens of millions or more" (数千万条以上) → train the non-Transformer nets on a CPU cluster. */
  cpuClusterTrainingFrom: 10_000_000,
  /** alembic's augmentation amount for data distillation without unlabelled text (§6.3.2): copies per example. */
  augmentCopies: 10,
} as const;
