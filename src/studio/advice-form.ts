/**
 * The advisor's questions as the studio's form asks them (task, QPS, CPU/GPU, labelled examples, accuracy
 * goal, …) turned into the advisor's problem spec, so the page gets exactly `alembic advise`'s answer. A
 * caller that has a whole spec sends it as `spec` instead. Unknown form fields are refused, as the spec's
 * own parser refuses unknown keys.
 */
import { z } from 'zod';
import { adviseFromSpec, type Advice } from '../advise/advise.js';
import { validateConfig } from '../config/run-config.js';
import type { CandidateId } from '../advise/candidates.js';
import { ALL_CANDIDATE_IDS } from '../advise/candidates.js';

/** The studio's task names (the preview's X→Y abstraction) and the spec's input and output for each. */
const FORM_TASKS = {
  text_classification: { input: { texts: 1 }, output: { kind: 'one_of_k' }, metric: 'accuracy' },
  pair_classification: { input: { texts: 2 }, output: { kind: 'one_of_k' }, metric: 'accuracy' },
  text_matching: { input: { texts: 2 }, output: { kind: 'pair_score' }, metric: 'spearman' },
  sequence_labeling: { input: { texts: 1 }, output: { kind: 'token_tags' }, metric: 'f1' },
  reading_comprehension: {
    input: { texts: 2, passage_question: true },
    output: { kind: 'passage_span' },
    metric: 'f1',
  },
  generation: { input: { texts: 1 }, output: { kind: 'free_text' }, metric: 'bleu' },
} as const;

export type FormTask = keyof typeof FORM_TASKS;
export const FORM_TASK_NAMES = Object.keys(FORM_TASKS) as FormTask[];

const formSchema = z.strictObject({
  task: z.enum(FORM_TASK_NAMES as [FormTask, ...FormTask[]]),
  qps: z.number().positive().optional(),
  latency_ms: z.number().positive().optional(),
  hardware: z.enum(['cpu', 'gpu']).default('cpu'),
  /** Whether the budget pays for GPUs (absent: not stated). */
  gpu_allowed: z.boolean().optional(),
  labelled: z.number().int().min(1),
  unlabelled: z.number().int().min(0).optional(),
  /** Label names or {label: count}, e.g. the preview's label counts. */
  labels: z
    .union([z.array(z.string().min(1)).min(1), z.record(z.string().min(1), z.number().int().min(0))])
    .optional(),
  num_labels: z.number().int().min(1).optional(),
  accuracy_goal: z.number().positive().max(1).optional(),
  metric: z.string().optional(),
  language: z.enum(['zh', 'en']).default('zh'),
  avg_length: z.number().positive().optional(),
  iteration_hours: z.number().positive().optional(),
  name: z.string().min(1).optional(),
});

export type AdviceForm = z.input<typeof formSchema>;

/** The spec the advisor reads for a form (validated; errors name the form field). */
export function specFromForm(raw: unknown): Record<string, unknown> {
  const f = validateConfig(formSchema, raw, 'advice');
  const t = FORM_TASKS[f.task];
  const output: Record<string, unknown> = { ...t.output };
  if (f.task !== 'reading_comprehension' && f.task !== 'generation' && f.task !== 'text_matching') {
    if (f.labels !== undefined) output.labels = f.labels;
    if (f.num_labels !== undefined) output.num_labels = f.num_labels;
  }
  const metric = f.metric ?? t.metric;
  return {
    ...(f.name && { name: f.name }),
    input: {
      ...t.input,
      language: f.language,
      ...(f.avg_length !== undefined && { avg_length: f.avg_length }),
    },
    output,
    data: { labelled: f.labelled, ...(f.unlabelled !== undefined && { unlabelled: f.unlabelled }) },
    constraints: {
      ...(f.qps !== undefined && { qps: f.qps }),
      ...(f.latency_ms !== undefined && { latency_ms: f.latency_ms }),
      ...(f.iteration_hours !== undefined && { iteration_hours: f.iteration_hours }),
      ...((f.accuracy_goal !== undefined || f.metric !== undefined) && {
        accuracy: { metric, ...(f.accuracy_goal !== undefined && { target: f.accuracy_goal }) },
      }),
    },
    hardware: { training: { device: f.hardware }, serving: { device: f.hardware } },
    ...(f.gpu_allowed !== undefined && { budget: { gpu_allowed: f.gpu_allowed } }),
  };
}

/** The advice for a request body: `{spec}` (a whole advisor spec) or the form's fields. */
export function adviceFor(body: unknown): { spec: Record<string, unknown>; advice: Advice } {
  const b = (body ?? {}) as Record<string, unknown>;
  const spec =
    b.spec !== undefined && typeof b.spec === 'object' && b.spec !== null
      ? (b.spec as Record<string, unknown>)
      : specFromForm(withoutKeys(b, ['candidates', 'file', 'dev_file', 'budget_seconds']));
  return { spec, advice: adviseFromSpec(spec, 'advice') };
}

function withoutKeys(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

/** Checks a list of candidate ids for measuring. */
export function candidateIds(raw: unknown): CandidateId[] | undefined {
  if (raw === undefined) return undefined;
  const ids = validateConfig(
    z.array(z.enum(ALL_CANDIDATE_IDS as [CandidateId, ...CandidateId[]])).min(1),
    raw,
    'candidates',
  );
  return ids;
}
