/**
 * The advisor: spec → typical task(s) → rule outcomes → networks, distillation and training settings.
 * Everything in an Advice is plain data, so it prints as JSON as readily as it renders as text.
 */
import { hyperparamsFor, maxLenFor, type Hyperparams } from './hyperparams.js';
import { metricFor } from './metrics.js';
import {
  factsFor,
  runConstraintRules,
  runSchemeRules,
  transformerTrainingExamples,
  type Facts,
  type RuleOutcome,
} from './rules.js';
import { chooseScheme, type Scheme } from './scheme.js';
import { parseSpec, type MetricName, type Spec } from './spec.js';
import { planTasks, type PipelineStep, type TaskName, type TaskPlan } from './task-mapping.js';
import { isTransformer } from './candidates.js';

export interface StepAdvice {
  step: PipelineStep;
  /** Outcomes for this step only; outcomes common to every step are in Advice.shared. */
  outcomes: RuleOutcome[];
  scheme: Scheme;
  metric: MetricName;
  /** Settings for the served network (scheme.serve[0]). */
  serve: Hyperparams;
  /** Settings for the teacher, when the scheme distils. */
  teacher?: Hyperparams;
}

export interface Advice {
  source: string;
  name: string;
  spec: Spec;
  plan: TaskPlan;
  steps: StepAdvice[];
  /** Outcomes that are the same for every step of a multi-step plan. */
  shared: RuleOutcome[];
  /** Every warning, once, in plain words. */
  warnings: string[];
}

/** Validates the spec (SpecError names the JSON path of each problem) and advises on it. */
export function adviseFromSpec(specJson: unknown, source: string): Advice {
  return adviseSpec(parseSpec(specJson, source), source);
}

export function adviseSpec(spec: Spec, source: string): Advice {
  const plan = planTasks(spec);
  const steps = plan.steps.map((step) => adviseStep(spec, step, plan.steps.length));
  const shared = steps.length > 1 ? sharedOutcomes(steps.map((s) => s.outcomes)) : [];
  const sharedKeys = new Set(shared.map(key));
  for (const s of steps) s.outcomes = s.outcomes.filter((o) => !sharedKeys.has(key(o)));
  const warnings = [
    ...shared.filter((o) => o.kind === 'warning').map((o) => o.recommendation),
    ...steps.flatMap((s) =>
      s.outcomes
        .filter((o) => o.kind === 'warning')
        .map((o) => (steps.length > 1 ? `${s.step.name}: ${o.recommendation}` : o.recommendation)),
    ),
  ];
  return { source, name: spec.name, spec, plan, steps, shared, warnings: [...new Set(warnings)] };
}

function adviseStep(spec: Spec, step: PipelineStep, stepCount: number): StepAdvice {
  const facts = factsFor(spec, step, stepCount);
  const constraintOutcomes = runConstraintRules(facts);
  const scheme = chooseScheme(facts, constraintOutcomes);
  const outcomes = [...constraintOutcomes, ...runSchemeRules({ ...facts, scheme })];
  const maxLen = maxLenFor(step, textsPerExample(step.task), spec.input.avg_length);
  const top = scheme.serve[0];
  const serveExamples = scheme.distillation?.studentExamples ?? trainingExamples(facts, top);
  const advice: StepAdvice = {
    step,
    outcomes,
    scheme,
    metric: metricFor(step.task, facts.metric),
    serve: hyperparamsFor(top, serveExamples, maxLen),
  };
  if (scheme.teacher)
    advice.teacher = hyperparamsFor(scheme.teacher, transformerTrainingExamples(facts), maxLen);
  return advice;
}

function trainingExamples(facts: Facts, c: Scheme['serve'][number]): number {
  return isTransformer(c.id) && c.pretrainedDir !== undefined
    ? transformerTrainingExamples(facts)
    : facts.labelled;
}

/** Pair tasks read two texts per example (query + candidate, passage + question). */
function textsPerExample(task: TaskName): number {
  return task === 'text_pair_classification' || task === 'text_matching' || task === 'reading_comprehension'
    ? 2
    : 1;
}

function key(o: RuleOutcome): string {
  return `${o.rule}\u0000${o.recommendation}`;
}

function sharedOutcomes(lists: RuleOutcome[][]): RuleOutcome[] {
  const [first, ...rest] = lists;
  return first.filter((o) => rest.every((l) => l.some((p) => key(p) === key(o))));
}
