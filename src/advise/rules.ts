/**
 * The guide's rules (§3–§4, §6), one small named rule each, driven by the thresholds in GUIDE_LIMITS.
 *
 * Constraint rules look only at the facts of one pipeline step and may take networks out of training
 * (`noTrain`) or out of serving (`noServe`). Scheme rules run after the networks are chosen (scheme.ts) and
 * comment on that choice: data amounts for the chosen nets, distillation, clusters.
 *
 * Boundaries. The guide writes "qps>1000" and "qps>100", so both QPS limits are strict: 1000 QPS is in the
 * "> 100" band, 1001 in the "> 1000" band; 100 QPS is unconstrained, 101 is not. Data limits are inclusive
 * lower bounds: "at least 200 examples per label" passes at 200 and warns at 199.
 */
import {
  CPU_TRAINING_GFLOPS,
  DEFAULT_ITERATION_HOURS,
  ESTIMATE_EPOCHS,
  cpuEpochSeconds,
  formatDuration,
  tokensPerExample,
  type TransformerId,
} from './cpu-training-time.js';
import type { CandidateId, ModelSize } from './candidates.js';
import { GUIDE_LIMITS } from './guide-limits.js';
import { TRANSFORMER_IDS, describeCandidate, isTransformer } from './candidates.js';
import { TASK_METRICS, defaultMetric, metricFits } from './metrics.js';
import type { Scheme } from './scheme.js';
import type { MetricName, Spec } from './spec.js';
import { fmt } from './spec.js';
import type { PipelineStep, TaskName } from './task-mapping.js';

/** What the rules know about one pipeline step. */
export interface Facts {
  step: PipelineStep;
  stepCount: number;
  language: 'zh' | 'en';
  labelled: number;
  unlabelled: number;
  qps?: number;
  latencyMs?: number;
  iterationHours?: number;
  /** Average input length in characters (spec input.avg_length), for time estimates. */
  avgLength?: number;
  metric?: MetricName;
  target?: number;
  training: { device: 'cpu' | 'gpu'; gpus: number; machines: number };
  serving: { device: 'cpu' | 'gpu'; machines: number };
  /** A GPU can be used for training: one is on hand, or the budget pays for one. */
  trainGpu: boolean;
  /** A GPU can be used for serving: one is on hand, or the budget pays for one. */
  serveGpu: boolean;
  pretrained: Partial<Record<ModelSize, string>>;
}

export function factsFor(spec: Spec, step: PipelineStep, stepCount: number): Facts {
  const { training, serving } = spec.hardware;
  const { accuracy } = spec.constraints;
  return {
    step,
    stepCount,
    language: spec.input.language,
    labelled: spec.data.labelled,
    unlabelled: spec.data.unlabelled,
    qps: spec.constraints.qps,
    latencyMs: spec.constraints.latency_ms,
    iterationHours: spec.constraints.iteration_hours,
    avgLength: spec.input.avg_length,
    metric: accuracy?.metric,
    target: accuracy?.target,
    training,
    serving,
    trainGpu: training.device === 'gpu' || spec.budget.gpu_allowed === true,
    serveGpu: serving.device === 'gpu' || spec.budget.gpu_allowed === true,
    pretrained: spec.pretrained,
  };
}

export interface RuleOutcome {
  rule: string;
  /** The rule, in words (the guide it follows is not shipped, so no section numbers). */
  title: string;
  kind: 'recommendation' | 'warning';
  recommendation: string;
  reason: string;
  /** Networks that cannot be trained here at all. */
  noTrain?: CandidateId[];
  /** Networks that may be trained (e.g. as a teacher) but must not be served. */
  noServe?: CandidateId[];
  /** Networks that may be served only as a distilled student of a bigger teacher. */
  studentOnly?: CandidateId[];
  /** Serving preference that replaces the quality order for the networks listed (others follow by quality). */
  servingOrder?: CandidateId[];
}

export interface Rule<F = Facts> {
  id: string;
  title: string;
  evaluate(facts: F): RuleOutcome[];
}

/** Facts plus the networks chosen from the constraint rules' outcomes. */
export interface SchemeFacts extends Facts {
  scheme: Scheme;
}

const outcome = (
  rule: Pick<Rule<never>, 'id' | 'title'>,
  kind: RuleOutcome['kind'],
  recommendation: string,
  reason: string,
  effects: Partial<RuleOutcome> = {},
): RuleOutcome => ({ rule: rule.id, title: rule.title, kind, recommendation, reason, ...effects });

const TASK_EN: Record<TaskName, string> = {
  text_classification: 'text classification',
  text_pair_classification: 'pair classification',
  multi_label_classification: 'multi-label classification',
  sequence_labeling: 'sequence labelling',
  text_matching: 'text matching',
  reading_comprehension: 'reading comprehension',
  text_generation: 'text generation',
  language_model: 'a language model',
};

/** Networks that do not fit a task; BOW ignores word order (§7.2.6), BOW/CNN here have no decoder. */
export const UNSUITED_NETS: Record<TaskName, { nets: CandidateId[]; why: string }> = {
  text_classification: { nets: [], why: '' },
  text_pair_classification: { nets: [], why: '' },
  multi_label_classification: { nets: [], why: '' },
  text_matching: { nets: [], why: '' },
  sequence_labeling: {
    nets: ['bow'],
    why: 'BOW ignores word order, so it cannot tell neighbouring tokens apart',
  },
  reading_comprehension: { nets: ['bow'], why: 'BOW ignores word order, so it cannot locate an answer span' },
  text_generation: {
    nets: ['bow', 'cnn'],
    why: 'generating text needs a sequential decoder (GRU, LSTM, Transformer)',
  },
  language_model: {
    nets: ['bow', 'cnn'],
    why: 'predicting the next token needs a sequential model (GRU, LSTM, Transformer)',
  },
};

export const taskNets: Rule = {
  id: 'task-nets',
  title: 'different tasks suit different networks',
  evaluate(f) {
    const { nets, why } = UNSUITED_NETS[f.step.task];
    if (nets.length === 0) return [];
    return [
      outcome(
        this,
        'recommendation',
        `Leave out ${nets.map((n) => n.toUpperCase()).join(' and ')} for ${TASK_EN[f.step.task]}.`,
        why,
        {
          noTrain: nets,
        },
      ),
    ];
  },
};

export const qpsAbove1000: Rule = {
  id: 'qps-above-1000',
  title: 'QPS > 1000: do not deploy a pretrained Transformer directly; distil',
  evaluate(f) {
    if (f.qps === undefined || !(f.qps > GUIDE_LIMITS.distilAboveQps)) return [];
    const tinyOnGpu = f.serveGpu;
    const results = [
      outcome(
        this,
        'recommendation',
        `At QPS ${fmt(f.qps)} do not deploy a Transformer directly (不适合直接部署); distil (蒸馏) it into a small student: ` +
          (tinyOnGpu
            ? 'a tiny Transformer on GPU (model distillation, 模型蒸馏) or a CNN/BOW (data distillation, 数据蒸馏).'
            : 'a CNN or BOW (data distillation, 数据蒸馏).'),
        'with qps > 1000 a pretrained model is not suitable for direct deployment; distillation works at some cost in quality. ' +
          'CNN and BOW are the students of the guide’s data-distillation example; GRU/LSTM are better but slower.',
        {
          noServe: tinyOnGpu ? ['transformer-base', 'transformer-large'] : [...TRANSFORMER_IDS],
          studentOnly: tinyOnGpu ? ['transformer-tiny'] : [],
          servingOrder: ['transformer-tiny', 'cnn', 'bow', 'gru', 'lstm'],
        },
      ),
    ];
    if (!tinyOnGpu) {
      results.push(
        outcome(
          this,
          'warning',
          `QPS ${fmt(f.qps)} on CPU: a Transformer will not reach it.`,
          'above 1000 QPS a pretrained Transformer is not deployed directly; without a GPU there is no tiny-Transformer student either, so the served model is a distilled BOW/CNN/GRU/LSTM.',
        ),
      );
    }
    return results;
  },
};

export const qpsAbove100: Rule = {
  id: 'qps-above-100',
  title: '100 < QPS ≤ 1000: tiny Transformer on GPU, or a CPU cluster',
  evaluate(f) {
    const { qps } = f;
    if (qps === undefined || !(qps > GUIDE_LIMITS.tinyAboveQps) || qps > GUIDE_LIMITS.distilAboveQps)
      return [];
    const noServe: CandidateId[] = ['transformer-base', 'transformer-large'];
    if (f.serveGpu) {
      return [
        outcome(
          this,
          'recommendation',
          `At QPS ${fmt(qps)} serve a tiny Transformer (ERNIE-tiny style) on GPU; base/large only as a teacher.`,
          'with qps > 100 and a budget that allows a GPU, deploy the pretrained model directly, preferably the tiny series.',
          { noServe },
        ),
      ];
    }
    const results = [
      outcome(
        this,
        'recommendation',
        `At QPS ${fmt(qps)} without a GPU, serve a tiny Transformer on a CPU cluster (CPU集群), or a BOW/CNN/GRU/LSTM.`,
        'with qps > 100 and a CPU-only budget, deploy the pretrained model on a CPU cluster.',
        { noServe },
      ),
    ];
    // Only worth saying when a Transformer can be trained at all (§4.4.1b).
    if (f.serving.machines === 1 && f.trainGpu) {
      results.push(
        outcome(
          this,
          'warning',
          `QPS ${fmt(qps)} on one CPU machine: a Transformer needs a CPU cluster (several serving machines).`,
          'on CPU a pretrained model reaches qps > 100 as a cluster deployment.',
        ),
      );
    }
    return results;
  },
};

export const qpsModest: Rule = {
  id: 'qps-modest',
  title: 'QPS ≤ 100: any model',
  evaluate(f) {
    if (f.qps !== undefined && f.qps > GUIDE_LIMITS.tinyAboveQps) return [];
    const what = f.qps === undefined ? 'No QPS target' : `QPS ${fmt(f.qps)} (≤ 100)`;
    return [
      outcome(
        this,
        'recommendation',
        `${what}: any model can be deployed; choose by quality.`,
        'when deployment speed is not demanding, any pretrained model may be tried.',
      ),
    ];
  },
};

export const transformerTrainingDevice: Rule = {
  id: 'transformer-training-device',
  title:
    'large ERNIE-style Transformers train on GPU; tiny ones, distilled students and the other nets train on CPU',
  evaluate(f) {
    if (f.training.device === 'gpu') return [];
    if (f.trainGpu) {
      return [
        outcome(
          this,
          'recommendation',
          'Train any base or large Transformer on a GPU (the budget allows one); a tiny Transformer and BOW/CNN/GRU/LSTM can train on the CPU.',
          'a large pretrained Transformer (ERNIE/BERT base or large) trains too slowly on CPU; other nets train acceptably on CPU.',
        ),
      ];
    }
    const estimate = (id: TransformerId) => cpuEpochSeconds(id, f.labelled, f.avgLength);
    const budgetHours = f.iterationHours ?? DEFAULT_ITERATION_HOURS;
    const tooSlow = (['transformer-base', 'transformer-large'] as const).filter(
      (id) => (ESTIMATE_EPOCHS * estimate(id)) / 3600 > budgetHours,
    );
    const times = (['transformer-tiny', 'transformer-base', 'transformer-large'] as const)
      .map((id) => `${id.slice('transformer-'.length)} ~${formatDuration(estimate(id))}`)
      .join(', ');
    const out =
      tooSlow.length > 0
        ? `${tooSlow.map((id) => id.slice('transformer-'.length)).join(' and ')} Transformers are impractical to train here; `
        : '';
    return [
      outcome(
        this,
        'warning',
        `Training on CPU only: ${out}estimated time per epoch on ${fmt(f.labelled)} examples of ~${tokensPerExample(f.avgLength)} tokens: ${times}. ` +
          `A tiny Transformer or a distilled Transformer student trains fine on CPU, and so do BOW/CNN/GRU/LSTM.`,
        `large ERNIE-style models are impractical to train on CPU (CPU太慢,训练不起来); tiny ones and distilled students are fine. ` +
          `Estimate: 6 × parameters floating-point operations per token at ~${CPU_TRAINING_GFLOPS} GFLOPS (a 2-core CPU training alembic's 4-layer, hidden-256 Transformer); ` +
          `a size is left out when ${ESTIMATE_EPOCHS} epochs exceed ${budgetHours} h per run.`,
        tooSlow.length > 0 ? { noTrain: tooSlow } : {},
      ),
    ];
  },
};

export const pretrainedCheckpoints: Rule = {
  id: 'pretrained-checkpoints',
  title: 'pretrained models beat non-pretrained ones',
  evaluate(f) {
    if (Object.keys(f.pretrained).length > 0) return [];
    return [
      outcome(
        this,
        'recommendation',
        'No pretrained checkpoint given (spec "pretrained"): a Transformer would start from scratch. Add a tiny/base/large checkpoint if you can.',
        'models with pretraining beat those without; among pretrained models large > base > tiny.',
      ),
    ];
  },
};

const LABELLED_TASKS: readonly TaskName[] = [
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
  'sequence_labeling',
];

export const labelCoverage: Rule = {
  id: 'label-coverage',
  title: 'at least 200 examples per label',
  evaluate(f) {
    const labels = f.step.labels;
    if (!LABELLED_TASKS.includes(f.step.task) || labels === undefined || labels.count === 0) return [];
    const min = GUIDE_LIMITS.minExamplesPerLabel;
    const reason = `for classification and sequence labelling each label needs at least ${min} examples (50 classes → 10,000); more classes make the task harder.`;
    if (labels.counts) {
      const weak = Object.entries(labels.counts).filter(([, n]) => n < min);
      if (weak.length === 0) return [];
      const list = weak.map(([name, n]) => `${name} (${fmt(n)})`).join(', ');
      return [
        outcome(
          this,
          'warning',
          `${weak.length} of ${labels.count} labels have fewer than ${min} examples: ${list}: expect these classes to be weak; label more.`,
          reason,
        ),
      ];
    }
    const perLabel = f.labelled / labels.count;
    if (perLabel >= min) return [];
    const needed = labels.count * min;
    return [
      outcome(
        this,
        'warning',
        `${fmt(labels.count)} labels but ${fmt(f.labelled)} examples (${fmt(Math.floor(perLabel))} per label if spread evenly): ` +
          `expect weak classes; aim for ≥ ${min} per label, ${fmt(needed)} in all.`,
        reason,
      ),
    ];
  },
};

export const metricFirst: Rule = {
  id: 'metric-first',
  title: 'fix the evaluation metric before training',
  evaluate(f) {
    const task = f.step.task;
    const fallback = defaultMetric(task);
    const reason =
      'the evaluation metric should be settled before training starts, or the optimisation drifts.';
    if (f.metric === undefined) {
      return [
        outcome(
          this,
          'warning',
          `No metric given (constraints.accuracy.metric): decide it before training; alembic uses ${fallback} for ${TASK_EN[task]}.`,
          reason,
        ),
      ];
    }
    if (metricFits(task, f.metric)) return [];
    const usual = TASK_METRICS[task].join(', ');
    if (f.stepCount > 1) {
      return [
        outcome(
          this,
          'recommendation',
          `The spec's metric ${f.metric} does not fit this step (${TASK_EN[task]}); it is evaluated with ${fallback}.`,
          reason,
        ),
      ];
    }
    return [
      outcome(
        this,
        'warning',
        `${f.metric} is not a usual metric for ${TASK_EN[task]} (usual: ${usual}); alembic uses ${fallback}.`,
        reason,
      ),
    ];
  },
};

export const multiGpu: Rule = {
  id: 'multi-gpu',
  title: 'fill one machine’s cards first; one data file per card at least',
  evaluate(f) {
    const { gpus, machines, device } = f.training;
    const cards = gpus * machines;
    if (device !== 'gpu' || cards <= 1) return [];
    return [
      outcome(
        this,
        'recommendation',
        `${gpus} card(s) × ${machines} machine(s): use all cards of one machine before adding machines, and split the training data into at least ${cards} files.`,
        'single-machine multi-card training uses GPUs better than multi-machine (communication is slow); each card reads different files, so files must outnumber cards.',
      ),
    ];
  },
};

export const gpuServingCost: Rule = {
  id: 'gpu-serving-cost',
  title: 'GPUs cost far more than CPUs',
  evaluate(f) {
    if (f.serving.device !== 'gpu' || (f.qps !== undefined && f.qps > GUIDE_LIMITS.tinyAboveQps)) return [];
    return [
      outcome(
        this,
        'recommendation',
        'Serving on GPU at ≤ 100 QPS: check whether CPU serving is enough; GPUs cost far more (GPU远贵于CPU).',
        'GPUs are much more expensive than CPUs; at modest QPS any model deploys.',
      ),
    ];
  },
};

export const baselineSubset: Rule = {
  id: 'baseline-subset',
  title: 'validate a baseline on tens of thousands of examples first',
  evaluate(f) {
    if (!(f.labelled > GUIDE_LIMITS.baselineAbove)) return [];
    const budget = f.iterationHours === undefined ? '' : ` (each run must fit in ${f.iterationHours} h)`;
    return [
      outcome(
        this,
        'recommendation',
        `Start with a baseline on ~${fmt(GUIDE_LIMITS.baselineSample)} of the ${fmt(f.labelled)} examples${budget}; add the rest once the approach works.`,
        'validate the strategy on tens of thousands of examples first, then add data; iterations stay short.',
      ),
    ];
  },
};

export const iterationWithPretrained: Rule = {
  id: 'iteration-pretrained',
  title: 'pretrained models shorten iteration',
  evaluate(f) {
    if (f.iterationHours === undefined || Object.keys(f.pretrained).length > 0) return [];
    return [
      outcome(
        this,
        'recommendation',
        `With ${f.iterationHours} h per iteration, a pretrained checkpoint would help: fine-tuning converges with far less data and time.`,
        'using a pretrained model improves iteration efficiency.',
      ),
    ];
  },
};

/** Constraint rules, in the order they are reported. */
export const CONSTRAINT_RULES: readonly Rule[] = [
  taskNets,
  qpsAbove1000,
  qpsAbove100,
  qpsModest,
  transformerTrainingDevice,
  pretrainedCheckpoints,
  labelCoverage,
  metricFirst,
  multiGpu,
  gpuServingCost,
  baselineSubset,
  iterationWithPretrained,
];

/** How many examples a pretrained Transformer should be fine-tuned on (§4.5.3a caps huge sets). */
export function transformerTrainingExamples(f: Facts): number {
  const cards = f.training.gpus * f.training.machines;
  return f.labelled >= GUIDE_LIMITS.pretrainedMaxExamples && cards < GUIDE_LIMITS.ampleGpus
    ? GUIDE_LIMITS.pretrainedSample
    : f.labelled;
}

export const pretrainedDataRange: Rule<SchemeFacts> = {
  id: 'pretrained-data-range',
  title: 'a pretrained Transformer needs thousands to tens of thousands of examples',
  evaluate(f) {
    const trained = f.scheme.teacher ?? f.scheme.serve[0];
    if (!isTransformer(trained.id) || trained.pretrainedDir === undefined) return [];
    if (f.labelled < GUIDE_LIMITS.pretrainedMinExamples) {
      return [
        outcome(
          this,
          'warning',
          `${fmt(f.labelled)} labelled examples: a pretrained Transformer usually needs a few thousand to tens of thousands; label more.`,
          'pretrained (ERNIE) models converge well with a few thousand to tens of thousands of examples.',
        ),
      ];
    }
    const examples = transformerTrainingExamples(f);
    if (examples === f.labelled) return [];
    return [
      outcome(
        this,
        'recommendation',
        `Fine-tune the ${describeCandidate(trained)} on a sample of ${fmt(examples)}, not all ${fmt(f.labelled)} examples.`,
        `millions of examples make a pretrained model slow and costly to train for little gain, unless GPUs are plentiful (alembic: ≥ ${GUIDE_LIMITS.ampleGpus} cards).`,
      ),
    ];
  },
};

export const scratchDataRange: Rule<SchemeFacts> = {
  id: 'scratch-data-range',
  title: 'non-pretrained nets need tens of thousands to millions of examples',
  evaluate(f) {
    const top = f.scheme.serve[0];
    const pretrained = isTransformer(top.id) && top.pretrainedDir !== undefined;
    if (
      pretrained ||
      f.scheme.distillation?.method === 'data' ||
      f.labelled >= GUIDE_LIMITS.scratchMinExamples
    )
      return [];
    // Without distillation here, a teacher is missing a checkpoint or a GPU to train on; say which.
    const missing = [
      Object.keys(f.pretrained).length === 0 ? 'a pretrained checkpoint' : '',
      f.trainGpu ? '' : 'a GPU to train it',
    ].filter((m) => m !== '');
    const text = f.unlabelled > 0 ? `your ${fmt(f.unlabelled)} unlabelled texts` : 'unlabelled text';
    const remedy =
      f.scheme.distillation || missing.length === 0
        ? 'label more'
        : `label more, or let a pretrained Transformer teacher label ${text} (data distillation; needs ${missing.join(' and ')})`;
    return [
      outcome(
        this,
        'warning',
        `${fmt(f.labelled)} labelled examples for a non-pretrained ${describeCandidate(top)}: expect weak results; ${remedy}.`,
        'non-pretrained nets need tens of thousands to millions of examples; data distillation turns unlabelled text into training data.',
      ),
    ];
  },
};

export const distillation: Rule<SchemeFacts> = {
  id: 'distillation',
  title: 'model distillation or data distillation',
  evaluate(f) {
    const d = f.scheme.distillation;
    if (d === undefined) return [];
    const teacher = describeCandidate(d.teacher);
    const student = describeCandidate(d.student);
    if (d.method === 'model') {
      return [
        outcome(
          this,
          'recommendation',
          `Model distillation (模型蒸馏): fine-tune the ${teacher} as teacher, then train the ${student} on its soft labels plus the true labels.`,
          'a large teacher’s outputs teach a small student (ERNIE-Tiny); it needs no mass of unlabelled data.',
        ),
      ];
    }
    const sources = [
      d.unlabelled > 0 ? `${fmt(d.unlabelled)} unlabelled texts` : '',
      d.augmented > 0
        ? `${fmt(d.augmented)} augmented copies of the labelled data (UNK noise, same-POS word swaps, n-sampling)`
        : '',
    ].filter((s) => s !== '');
    return [
      outcome(
        this,
        'recommendation',
        `Data distillation (数据蒸馏): fine-tune the ${teacher} on the ${fmt(f.labelled)} labelled examples, let it label ${sources.join(' and ')}, ` +
          `then train the ${student} on all ${fmt(d.studentExamples)}.`,
        'the teacher’s labels on extra text carry its knowledge to a small model, for a large speed-up at a small loss' +
          (d.augmented > 0 ? '; without enough unlabelled text, augment the labelled set.' : '.'),
      ),
    ];
  },
};

export const distillationCost: Rule<SchemeFacts> = {
  id: 'distillation-cost',
  title: 'a distilled student loses some quality',
  evaluate(f) {
    if (f.scheme.distillation === undefined || f.target === undefined) return [];
    const metric = f.metric ?? defaultMetric(f.step.task);
    return [
      outcome(
        this,
        'warning',
        `Distillation costs some quality: check the target ${metric} ≥ ${f.target} on the student, not only the teacher.`,
        'distillation makes deployment possible with some loss of model quality.',
      ),
    ];
  },
};

export const noTeacher: Rule<SchemeFacts> = {
  id: 'no-teacher',
  title: 'QPS > 1000 asks for distillation, which needs a teacher',
  evaluate(f) {
    if (f.qps === undefined || !(f.qps > GUIDE_LIMITS.distilAboveQps) || f.scheme.distillation !== undefined)
      return [];
    const missing = [
      Object.keys(f.pretrained).length === 0 ? 'a pretrained checkpoint' : '',
      f.trainGpu ? '' : 'a GPU to train it on',
    ].filter((s) => s !== '');
    const why = missing.length > 0 ? ` (missing: ${missing.join(' and ')})` : '';
    return [
      outcome(
        this,
        'warning',
        `No Transformer teacher can be trained here${why}: the ${describeCandidate(f.scheme.serve[0])} learns from the labelled data alone.`,
        'above 1000 QPS the served model should be distilled from a stronger one.',
      ),
    ];
  },
};

export const cpuClusterTraining: Rule<SchemeFacts> = {
  id: 'cpu-cluster-training',
  title: 'tens of millions of examples: train on a CPU cluster',
  evaluate(f) {
    const top = f.scheme.serve[0];
    const examples = f.scheme.distillation?.studentExamples ?? f.labelled;
    if (isTransformer(top.id) || examples < GUIDE_LIMITS.cpuClusterTrainingFrom) return [];
    return [
      outcome(
        this,
        'recommendation',
        `${fmt(examples)} training examples for the ${describeCandidate(top)}: train on a CPU cluster.`,
        'CPU training suits non-Transformer nets, but tens of millions of examples call for a CPU cluster.',
      ),
    ];
  },
};

/** Scheme rules, run once the networks are chosen. */
export const SCHEME_RULES: readonly Rule<SchemeFacts>[] = [
  distillation,
  distillationCost,
  noTeacher,
  pretrainedDataRange,
  scratchDataRange,
  cpuClusterTraining,
];

export function runConstraintRules(f: Facts, rules: readonly Rule[] = CONSTRAINT_RULES): RuleOutcome[] {
  return rules.flatMap((r) => r.evaluate(f));
}

export function runSchemeRules(
  f: SchemeFacts,
  rules: readonly Rule<SchemeFacts>[] = SCHEME_RULES,
): RuleOutcome[] {
  return rules.flatMap((r) => r.evaluate(f));
}
