/**
 * The advisor's input: a business problem described as X (the input texts), Y (what to predict) and the
 * constraints of guide §3 (QPS, latency, hardware, budget, data, iteration time, metric).
 *
 * Parsing is strict (unknown fields are errors, so a typo such as "qsp" cannot silently drop a constraint)
 * and every problem is reported with its JSON path: `spec.json: output.labels: needs at least 2 labels`.
 */
import { z } from 'zod';
import { InputError } from '../util/errors.js';

/** What Y is. The first seven are the guide's typical outputs (§2.1); the rest are composite or
 * unsupervised-looking problems that task-mapping.ts turns into supervised pipelines (§2.2). */
export const OUTPUT_KINDS = [
  'one_of_k', // one class of K (§2.1.1a/b/d)
  'independent_labels', // several independent classes (§2.1.1c)
  'pair_score', // similarity of two texts (§2.1.2)
  'token_tags', // a tag per token (§2.1.3)
  'passage_span', // a span of the passage answering the question (§2.1.6)
  'free_text', // text of any length (§2.1.4)
  'likelihood', // how likely the text is as a sentence (§2.1.5)
  'entity_relation', // entities and the relations between them (§2.1.7a, §2.2.2a)
  'ranking', // an order over candidate texts (§2.2.2c)
  'error_correction', // the corrected text (§2.2.2b)
  'keywords', // keywords of the text (§2.2.3b)
  'clusters', // groups of similar texts (§2.1.2b, §2.2.4b)
] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/** Metric names as the trainer reports them (src/tasks: accuracy, macro_f1, micro_f1, …). */
export const METRICS = [
  'accuracy',
  'macro_f1',
  'macro_precision',
  'macro_recall',
  'micro_f1',
  'micro_precision',
  'micro_recall',
  'example_f1',
  'subset_accuracy',
  'auc',
  'f1',
  'precision',
  'recall',
  'pearson',
  'spearman',
  'exact_match',
  'bleu',
  'rouge_l',
  'perplexity',
] as const;
export type MetricName = (typeof METRICS)[number];

/** Label names, or label names with their example counts ({"positive": 1800, "negative": 1200}). */
const labelNames = z.array(z.string().min(1)).min(1);
const labelCounts = z.record(z.string().min(1), z.number().int().min(0));
const labelsField = z.union([labelNames, labelCounts]);

const classOutput = (kind: 'one_of_k' | 'independent_labels') =>
  z.strictObject({
    kind: z.literal(kind),
    labels: labelsField.optional(),
    num_labels: z
      .number()
      .int()
      .min(kind === 'one_of_k' ? 2 : 1)
      .optional(),
  });

const OUTPUT_SCHEMAS = {
  one_of_k: classOutput('one_of_k'),
  independent_labels: classOutput('independent_labels'),
  pair_score: z.strictObject({ kind: z.literal('pair_score'), labels: labelsField.optional() }),
  token_tags: z.strictObject({
    kind: z.literal('token_tags'),
    /** Tag types without the B-/I- prefixes, e.g. ["PER", "LOC", "ORG"]. */
    labels: labelsField.optional(),
    num_labels: z.number().int().min(1).optional(),
  }),
  passage_span: z.strictObject({ kind: z.literal('passage_span') }),
  free_text: z.strictObject({ kind: z.literal('free_text') }),
  likelihood: z.strictObject({ kind: z.literal('likelihood') }),
  entity_relation: z.strictObject({
    kind: z.literal('entity_relation'),
    entity_types: labelsField,
    relation_types: labelsField,
  }),
  ranking: z.strictObject({
    kind: z.literal('ranking'),
    /** true: candidates are ranked against a query (search); false: each candidate is graded alone. */
    query: z.boolean().default(true),
    /** Relevance grades used for labelling (e.g. ["bad", "fair", "good"]); default relevant / not relevant. */
    labels: labelsField.optional(),
  }),
  error_correction: z.strictObject({ kind: z.literal('error_correction') }),
  keywords: z.strictObject({
    kind: z.literal('keywords'),
    /** A fixed keyword vocabulary, if there is one; otherwise keywords are spans of the text. */
    labels: labelsField.optional(),
  }),
  clusters: z.strictObject({ kind: z.literal('clusters') }),
} satisfies Record<OutputKind, z.ZodType>;

export type OutputSpec = { [K in OutputKind]: z.output<(typeof OUTPUT_SCHEMAS)[K]> }[OutputKind];

const InputSchema = z.strictObject({
  /** Texts per example: 1 (a sentence), 2 (a pair, or passage + question), more (candidates to rank). */
  texts: z.number().int().min(1),
  /** The two texts are a passage and a question about it (reading comprehension). */
  passage_question: z.boolean().default(false),
  /** Extra numeric columns such as price or historical CTR (guide §2.1.1d). */
  numeric_features: z.array(z.string().min(1)).default([]),
  language: z.enum(['zh', 'en']).default('zh'),
  /** Average length of one text, in characters for Chinese, words for English. */
  avg_length: z.number().positive().optional(),
});

const DataSchema = z.strictObject({
  // Supervised training needs labelled examples (guide §2.2.3).
  labelled: z.number().int().min(1),
  unlabelled: z.number().int().min(0).default(0),
});

const ConstraintsSchema = z.strictObject({
  qps: z.number().positive().optional(),
  latency_ms: z.number().positive().optional(),
  /** Hours one training run may take before the next iteration (guide §3.1.4, §4.6). */
  iteration_hours: z.number().positive().optional(),
  accuracy: z
    .strictObject({
      metric: z.enum(METRICS),
      target: z.number().positive().optional(),
    })
    .optional(),
});

const HardwareSchema = z.strictObject({
  training: z
    .strictObject({
      device: z.enum(['cpu', 'gpu']).default('cpu'),
      /** GPU cards per training machine; defaults to 1 on a GPU machine, 0 on a CPU one. */
      gpus: z.number().int().min(0).optional(),
      machines: z.number().int().min(1).default(1),
    })
    .prefault({}),
  serving: z
    .strictObject({
      device: z.enum(['cpu', 'gpu']).default('cpu'),
      machines: z.number().int().min(1).default(1),
    })
    .prefault({}),
});

const BudgetSchema = z.strictObject({
  /** Whether the budget pays for GPUs beyond those listed under hardware, for training or serving
   * (guide §3.1.3, §4.3: GPUs cost far more than CPUs). */
  gpu_allowed: z.boolean(),
});

/** Pretrained Transformer checkpoints the user has, by size (directories as in the training config). */
const PretrainedSchema = z.strictObject({
  tiny: z.string().min(1).optional(),
  base: z.string().min(1).optional(),
  large: z.string().min(1).optional(),
});

const SpecSchema = z.strictObject({
  name: z.string().min(1).optional(),
  input: InputSchema,
  /** One output, or several (guide §2.1.7); validated per kind below for clearer messages. */
  output: z.unknown(),
  data: DataSchema,
  constraints: ConstraintsSchema.prefault({}),
  hardware: HardwareSchema.prefault({}),
  budget: BudgetSchema.optional(),
  pretrained: PretrainedSchema.prefault({}),
});

type ParsedSpec = z.output<typeof SpecSchema>;

/** A validated spec with defaults filled in and the output always a list. */
export interface Spec extends Omit<ParsedSpec, 'output' | 'budget' | 'hardware'> {
  name: string;
  outputs: OutputSpec[];
  /** Whether `output` was written as a list (so messages can name `output[1]` rather than `output`). */
  outputIsList: boolean;
  hardware: {
    training: { device: 'cpu' | 'gpu'; gpus: number; machines: number };
    serving: { device: 'cpu' | 'gpu'; machines: number };
  };
  /** gpu_allowed absent = not stated: only the GPUs listed under hardware are assumed. */
  budget: { gpu_allowed?: boolean };
}

export interface SpecIssue {
  path: string;
  message: string;
}

/** The spec is invalid; `issues` lists every problem, the message names the first and counts the rest. */
export class SpecError extends InputError {
  constructor(
    source: string,
    readonly issues: SpecIssue[],
  ) {
    const [first, ...rest] = issues;
    const more = rest.length === 0 ? '' : ` (and ${rest.length} more: ${rest.map((i) => i.path).join(', ')})`;
    super({ file: source, field: first.path }, first.message + more);
    this.name = 'SpecError';
  }
}

/** Parses and validates a spec; throws SpecError naming the JSON path of each problem. */
export function parseSpec(json: unknown, source: string): Spec {
  const issues: SpecIssue[] = [];
  const parsed = SpecSchema.safeParse(json);
  if (!parsed.success) issues.push(...parsed.error.issues.map((i) => toSpecIssue(i, json, [])));

  const rawOutput = isRecord(json) ? json.output : undefined;
  const outputs = parseOutputs(rawOutput, issues);
  if (issues.length > 0 || !parsed.success || outputs === undefined) throw new SpecError(source, issues);

  const spec = normalise(parsed.data, outputs, Array.isArray(rawOutput), source);
  issues.push(...crossFieldIssues(spec));
  if (issues.length > 0) throw new SpecError(source, issues);
  return spec;
}

function parseOutputs(raw: unknown, issues: SpecIssue[]): OutputSpec[] | undefined {
  if (raw === undefined) {
    issues.push({ path: 'output', message: `is required (one of: ${OUTPUT_KINDS.join(', ')})` });
    return undefined;
  }
  const list = Array.isArray(raw) ? raw : [raw];
  if (Array.isArray(raw) && raw.length === 0) {
    issues.push({ path: 'output', message: 'lists no outputs; give one output object or a list of them' });
    return undefined;
  }
  const outputs: OutputSpec[] = [];
  list.forEach((item, i) => {
    const base: PathPart[] = Array.isArray(raw) ? ['output', i] : ['output'];
    const kind = isRecord(item) ? item.kind : undefined;
    if (!isOutputKind(kind)) {
      const got = kind === undefined ? 'is missing' : `is ${JSON.stringify(kind)}`;
      issues.push({
        path: formatPath([...base, 'kind']),
        message: `${got}; use one of: ${OUTPUT_KINDS.join(', ')}`,
      });
      return;
    }
    const result = OUTPUT_SCHEMAS[kind].safeParse(item);
    if (result.success) outputs.push(result.data as OutputSpec);
    else issues.push(...result.error.issues.map((iss) => toSpecIssue(iss, item, base)));
  });
  return outputs.length === list.length ? outputs : undefined;
}

function normalise(data: ParsedSpec, outputs: OutputSpec[], outputIsList: boolean, source: string): Spec {
  const { training, serving } = data.hardware;
  const gpus = training.gpus ?? (training.device === 'gpu' ? 1 : 0);
  return {
    ...data,
    name: data.name ?? baseName(source),
    outputs,
    outputIsList,
    hardware: { training: { ...training, gpus }, serving },
    budget: data.budget ?? {},
  };
}

/** Checks that involve more than one field: X must fit Y, counts must add up, hardware must agree. */
function crossFieldIssues(spec: Spec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const { input } = spec;
  if (input.passage_question && input.texts !== 2) {
    issues.push({ path: 'input.texts', message: `is ${input.texts}, but passage_question needs 2 texts` });
  }
  spec.outputs.forEach((out, i) => {
    const at = (field: string) =>
      (spec.outputIsList ? `output[${i}]` : 'output') + (field ? `.${field}` : '');
    const needTexts = TEXTS_FOR_OUTPUT[out.kind];
    if (!needTexts.fits(input.texts)) {
      issues.push({ path: 'input.texts', message: `is ${input.texts}, but ${out.kind} ${needTexts.says}` });
    }
    if (out.kind === 'passage_span' && !input.passage_question) {
      issues.push({
        path: 'input.passage_question',
        message: 'must be true for passage_span (X is a passage and a question)',
      });
    }
    if (input.numeric_features.length > 0 && !NUMERIC_FEATURE_KINDS.includes(out.kind)) {
      issues.push({
        path: 'input.numeric_features',
        message: `numeric features go with one_of_k or independent_labels (mixed-feature classification), not ${out.kind}`,
      });
    }
    if ('labels' in out && 'num_labels' in out && out.labels && out.num_labels !== undefined) {
      const n = labelList(out.labels).length;
      if (n !== out.num_labels) {
        issues.push({ path: at('num_labels'), message: `is ${out.num_labels}, but labels lists ${n}` });
      }
    }
    if (out.kind === 'one_of_k') {
      if (!out.labels && out.num_labels === undefined) {
        issues.push({ path: at('labels'), message: 'is required (or num_labels) for one_of_k' });
      } else if (out.labels && labelList(out.labels).length < 2) {
        issues.push({ path: at('labels'), message: 'needs at least 2 labels for one_of_k' });
      }
      if (out.labels && !Array.isArray(out.labels)) {
        const sum = Object.values(out.labels).reduce((a, b) => a + b, 0);
        if (sum !== spec.data.labelled) {
          issues.push({
            path: at('labels'),
            message: `counts add up to ${fmt(sum)}, but data.labelled is ${fmt(spec.data.labelled)} (one_of_k gives each example exactly one label)`,
          });
        }
      }
    }
    if (
      (out.kind === 'independent_labels' || out.kind === 'token_tags') &&
      !out.labels &&
      out.num_labels === undefined
    ) {
      issues.push({ path: at('labels'), message: `is required (or num_labels) for ${out.kind}` });
    }
  });
  const { training } = spec.hardware;
  if (training.device === 'cpu' && training.gpus > 0) {
    issues.push({ path: 'hardware.training.gpus', message: `is ${training.gpus}, but device is cpu` });
  }
  if (training.device === 'gpu' && training.gpus === 0) {
    issues.push({ path: 'hardware.training.gpus', message: 'is 0, but device is gpu' });
  }
  const { target, metric } = spec.constraints.accuracy ?? {};
  if (target !== undefined && metric !== undefined && FRACTION_METRICS.has(metric) && target > 1) {
    issues.push({
      path: 'constraints.accuracy.target',
      message: `is ${target}; ${metric} is a fraction, write 0.9 for 90%`,
    });
  }
  return issues;
}

/** How many input texts each output kind takes. */
const one = { fits: (n: number) => n === 1, says: 'takes 1 text' };
const TEXTS_FOR_OUTPUT: Record<OutputKind, { fits: (n: number) => boolean; says: string }> = {
  one_of_k: {
    fits: (n) => n === 1 || n === 2,
    says: 'takes 1 text (classification) or 2 (pair classification)',
  },
  independent_labels: one,
  pair_score: { fits: (n) => n === 2, says: 'compares 2 texts' },
  token_tags: { fits: (n) => n === 1, says: 'tags the tokens of 1 text' },
  passage_span: { fits: (n) => n === 2, says: 'takes 2 texts (passage and question)' },
  free_text: one,
  likelihood: one,
  entity_relation: one,
  ranking: { fits: (n) => n >= 2, says: 'ranks 2 or more texts' },
  error_correction: one,
  keywords: one,
  clusters: { fits: (n) => n === 1, says: 'groups single texts (give 1 text per example)' },
};

const NUMERIC_FEATURE_KINDS: readonly OutputKind[] = ['one_of_k', 'independent_labels'];
const FRACTION_METRICS = new Set<MetricName>(METRICS.filter((m) => !['perplexity', 'bleu'].includes(m)));

/** Label names of a labels field, whether written as a list or with counts. */
export function labelList(labels: string[] | Record<string, number>): string[] {
  return Array.isArray(labels) ? labels : Object.keys(labels);
}

/** Example counts per label, when the spec gives them. */
export function labelCountsOf(labels: string[] | Record<string, number> | undefined) {
  return labels && !Array.isArray(labels) ? labels : undefined;
}

type PathPart = string | number;

/** `['output', 0, 'labels']` → `output[0].labels`. */
export function formatPath(path: readonly PathPart[]): string {
  let s = '';
  for (const part of path) s += typeof part === 'number' ? `[${part}]` : s === '' ? part : `.${part}`;
  return s === '' ? '(top level)' : s;
}

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  origin?: string;
  keys?: string[];
  values?: unknown[];
}

/** Rewrites a zod issue as `path: plain words`, looking at the offending value in the input. */
function toSpecIssue(issue: ZodIssueLike, input: unknown, base: PathPart[]): SpecIssue {
  const rel = issue.path.filter((p): p is PathPart => typeof p !== 'symbol');
  const value = valueAt(input, rel);
  const path = [...base, ...rel];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = issue.keys ?? [];
      const where = formatPath([...path, keys[0] ?? '']);
      const others = keys.length > 1 ? ` (also ${keys.slice(1).join(', ')})` : '';
      return { path: where, message: `is not a known field${others}; check the spelling` };
    }
    case 'invalid_type':
      return {
        path: formatPath(path),
        message:
          value === undefined ? 'is required' : `must be ${typeWord(issue.expected)}, got ${describe(value)}`,
      };
    case 'too_small':
    case 'too_big': {
      const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
      if (issue.origin === 'array') return { path: formatPath(path), message: `needs ${op} ${bound} items` };
      if (issue.origin === 'string') return { path: formatPath(path), message: 'must not be empty' };
      return { path: formatPath(path), message: `must be ${op} ${bound}, got ${describe(value)}` };
    }
    case 'invalid_value':
      if (value === undefined) {
        return {
          path: formatPath(path),
          message: `is required (one of: ${(issue.values ?? []).join(', ')})`,
        };
      }
      return {
        path: formatPath(path),
        message: `must be one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}, got ${describe(value)}`,
      };
    default:
      return { path: formatPath(path), message: issue.message };
  }
}

function typeWord(expected: string | undefined): string {
  if (expected === 'int') return 'a whole number';
  if (expected === 'object' || expected === 'record') return 'an object';
  if (expected === 'array') return 'a list';
  return expected ? `a ${expected}` : 'a different type';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function valueAt(input: unknown, path: readonly PathPart[]): unknown {
  let v = input;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PathPart, unknown>)[part];
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isOutputKind(v: unknown): v is OutputKind {
  return typeof v === 'string' && (OUTPUT_KINDS as readonly string[]).includes(v);
}

function baseName(source: string): string {
  const file = source.split(/[\\/]/).pop() ?? source;
  return file.replace(/\.json$/i, '') || 'advice';
}

/** 3000 → "3,000": numbers in messages read like the guide's. */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
