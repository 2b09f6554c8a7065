/**
 * Building a spec by asking its questions one by one (`alembic advise --interactive`). Each question is
 * one field of the spec (spec.ts), asked only when it applies (GPU count only for GPU training, labels
 * only for outputs that have them). A starting spec's values are the defaults: Enter keeps a default,
 * "-" clears an optional field. Answers are checked as they come; the whole spec is validated by
 * parseSpec afterwards, like a spec file.
 */
import { METRICS, OUTPUT_KINDS, type OutputKind } from './spec.js';
import { UserError } from '../util/errors.js';

/** Asks and tells; `ask` resolves to the answer line, or undefined when the input has ended. */
export interface Prompter {
  ask(question: string): Promise<string | undefined>;
  say(line: string): void;
}

type Json = Record<string, unknown>;
type Answer = string | number | boolean | string[] | Record<string, number>;

interface Question {
  path: string;
  prompt: string;
  kind: 'text' | 'int' | 'number' | 'yesno' | 'labels' | { choices: readonly string[] };
  required?: boolean;
  min?: number;
  /** Default when the starting spec has no value. */
  fallback?: Answer;
  when?: (spec: Json) => boolean;
}

const KIND_HELP: Record<OutputKind, string> = {
  one_of_k: 'one class of K (sentiment, intent, topic)',
  independent_labels: 'several independent labels per text (tags)',
  pair_score: 'how similar two texts are',
  token_tags: 'a tag per token (NER, word segmentation)',
  passage_span: 'the span of a passage that answers a question',
  free_text: 'text of any length (summary, reply, translation)',
  likelihood: 'how likely a text is as a sentence',
  entity_relation: 'entities and the relations between them',
  ranking: 'an order over candidate texts (search)',
  error_correction: 'the corrected text',
  keywords: 'keywords of the text',
  clusters: 'groups of similar texts',
};

const LABELLED_KINDS: readonly string[] = ['one_of_k', 'independent_labels', 'token_tags'];
const OPTIONAL_LABEL_KINDS: readonly string[] = ['pair_score', 'ranking', 'keywords'];

const kindIs =
  (...kinds: string[]) =>
  (s: Json) =>
    kinds.includes(get(s, 'output.kind') as string);

export const QUESTIONS: readonly Question[] = [
  { path: 'name', prompt: 'Name of the problem', kind: 'text' },
  {
    path: 'input.texts',
    prompt:
      'Texts per example (1 = a sentence; 2 = a pair, or a passage and a question; more = candidates to rank)',
    kind: 'int',
    min: 1,
    required: true,
    fallback: 1,
  },
  {
    path: 'input.passage_question',
    prompt: 'Are the two texts a passage and a question about it?',
    kind: 'yesno',
    fallback: false,
    when: (s) => get(s, 'input.texts') === 2,
  },
  { path: 'input.language', prompt: 'Language', kind: { choices: ['zh', 'en'] }, fallback: 'zh' },
  {
    path: 'input.avg_length',
    prompt: 'Average length of one text (characters for Chinese, words for English; blank if unknown)',
    kind: 'number',
    min: 0,
  },
  {
    path: 'output.kind',
    prompt: 'What should the model output?',
    kind: { choices: OUTPUT_KINDS },
    required: true,
    when: (s) => !Array.isArray(get(s, 'output')),
  },
  {
    path: 'output.labels',
    prompt: 'Label names, comma-separated (with example counts if known: pos=1200, neg=800)',
    kind: 'labels',
    required: true,
    when: kindIs(...LABELLED_KINDS),
  },
  {
    path: 'output.labels',
    prompt: 'Label or grade names, comma-separated (blank for none)',
    kind: 'labels',
    when: kindIs(...OPTIONAL_LABEL_KINDS),
  },
  {
    path: 'output.query',
    prompt: 'Are candidates ranked against a query?',
    kind: 'yesno',
    fallback: true,
    when: kindIs('ranking'),
  },
  {
    path: 'output.entity_types',
    prompt: 'Entity types, comma-separated',
    kind: 'labels',
    required: true,
    when: kindIs('entity_relation'),
  },
  {
    path: 'output.relation_types',
    prompt: 'Relation types, comma-separated (with counts if known)',
    kind: 'labels',
    required: true,
    when: kindIs('entity_relation'),
  },
  { path: 'data.labelled', prompt: 'Labelled examples', kind: 'int', min: 1, required: true },
  { path: 'data.unlabelled', prompt: 'Unlabelled texts', kind: 'int', min: 0, fallback: 0 },
  {
    path: 'constraints.qps',
    prompt: 'Queries per second to serve (blank for no target)',
    kind: 'number',
    min: 0,
  },
  { path: 'constraints.latency_ms', prompt: 'Latency limit in ms (blank for none)', kind: 'number', min: 0 },
  {
    path: 'constraints.iteration_hours',
    prompt: 'Hours one training run may take (blank for no limit)',
    kind: 'number',
    min: 0,
  },
  {
    path: 'constraints.accuracy.metric',
    prompt: 'Metric to judge the model by (blank for the task’s default)',
    kind: { choices: METRICS },
  },
  {
    path: 'constraints.accuracy.target',
    prompt: 'Target value of that metric (e.g. 0.9; blank for none)',
    kind: 'number',
    min: 0,
    when: (s) => get(s, 'constraints.accuracy.metric') !== undefined,
  },
  {
    path: 'hardware.training.device',
    prompt: 'Training hardware',
    kind: { choices: ['cpu', 'gpu'] },
    fallback: 'cpu',
  },
  {
    path: 'hardware.training.gpus',
    prompt: 'GPU cards per training machine',
    kind: 'int',
    min: 1,
    fallback: 1,
    when: (s) => get(s, 'hardware.training.device') === 'gpu',
  },
  { path: 'hardware.training.machines', prompt: 'Training machines', kind: 'int', min: 1, fallback: 1 },
  {
    path: 'hardware.serving.device',
    prompt: 'Serving hardware',
    kind: { choices: ['cpu', 'gpu'] },
    fallback: 'cpu',
  },
  { path: 'hardware.serving.machines', prompt: 'Serving machines', kind: 'int', min: 1, fallback: 1 },
  {
    path: 'budget.gpu_allowed',
    prompt: 'Does the budget pay for more GPUs? (blank if not stated)',
    kind: 'yesno',
  },
  {
    path: 'pretrained.tiny',
    prompt: 'Directory of a tiny pretrained Transformer (blank for none)',
    kind: 'text',
  },
  {
    path: 'pretrained.base',
    prompt: 'Directory of a base pretrained Transformer (blank for none)',
    kind: 'text',
  },
  {
    path: 'pretrained.large',
    prompt: 'Directory of a large pretrained Transformer (blank for none)',
    kind: 'text',
  },
];

/** Asks every question that applies and returns the spec (unvalidated: parseSpec comes next). */
export async function interviewSpec(p: Prompter, start: Json = {}): Promise<Json> {
  const spec = structuredClone(start);
  p.say('Describe the problem; Enter keeps the value in [brackets], "-" clears an optional one.');
  if (Array.isArray(spec.output)) p.say(`output: keeping the ${spec.output.length} outputs of the spec`);
  const asked = new Set<string>();
  const notAsked = new Set<string>();
  for (const q of QUESTIONS) {
    if (q.when && !q.when(spec)) {
      notAsked.add(q.path);
      continue;
    }
    asked.add(q.path);
    const answer = await askOne(p, q, get(spec, q.path) ?? q.fallback);
    if (q.path === 'output.kind' && answer !== get(spec, 'output.kind')) spec.output = {};
    if (answer === undefined) unset(spec, q.path);
    else set(spec, q.path, answer);
  }
  // A field whose question did not apply (GPU count for CPU training) would contradict the answers.
  for (const path of notAsked) {
    const keptOutputs = path.startsWith('output.') && Array.isArray(spec.output);
    if (!asked.has(path) && !keptOutputs) unset(spec, path);
  }
  pruneEmpty(spec);
  return spec;
}

async function askOne(p: Prompter, q: Question, current: unknown): Promise<Answer | undefined> {
  const choices = typeof q.kind === 'object' ? q.kind.choices : undefined;
  if (choices && choices.length > 3) {
    choices.forEach((c, i) =>
      p.say(`  ${i + 1}. ${c}${c in KIND_HELP ? ` — ${KIND_HELP[c as OutputKind]}` : ''}`),
    );
  }
  const shown = current === undefined ? '' : ` [${showValue(current)}]`;
  const options =
    choices && choices.length <= 3 ? ` (${choices.join('/')})` : q.kind === 'yesno' ? ' (y/n)' : '';
  for (;;) {
    const line = await p.ask(`${q.prompt}${options}${shown}: `);
    if (line === undefined) {
      throw new UserError(`the input ended before "${q.path}" was answered (${q.prompt})`);
    }
    const text = line.trim();
    if (text === '') {
      if (current !== undefined) return current as Answer;
      if (!q.required) return undefined;
      p.say(`  ${q.path} is required.`);
      continue;
    }
    if (text === '-') {
      if (!q.required) return undefined;
      p.say(`  ${q.path} is required and cannot be cleared.`);
      continue;
    }
    const parsed = parseAnswer(q, text, choices);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      p.say(`  ${q.path}: ${parsed.error}`);
      continue;
    }
    return parsed as Answer;
  }
}

/** An answer as the spec stores it, or `{ error }` saying what was wrong with it. */
export function parseAnswer(
  q: Pick<Question, 'kind' | 'min'>,
  text: string,
  choices?: readonly string[],
): Answer | { error: string } {
  if (choices) {
    const n = Number(text);
    if (Number.isInteger(n) && n >= 1 && n <= choices.length && choices.length > 3) return choices[n - 1];
    if (choices.includes(text)) return text;
    return { error: `"${text}" is not one of ${choices.join(', ')}` };
  }
  switch (q.kind) {
    case 'int':
    case 'number': {
      const n = Number(text.replaceAll(',', '').replaceAll('_', ''));
      if (!Number.isFinite(n) || (q.kind === 'int' && !Number.isInteger(n))) {
        return { error: `"${text}" is not ${q.kind === 'int' ? 'a whole number' : 'a number'}` };
      }
      if (q.min !== undefined && n < q.min) return { error: `must be at least ${q.min}` };
      return n;
    }
    case 'yesno':
      if (/^(y|yes|true)$/i.test(text)) return true;
      if (/^(n|no|false)$/i.test(text)) return false;
      return { error: 'answer y or n' };
    case 'labels':
      return parseLabels(text);
    default:
      return text;
  }
}

/** "a, b, c" → ["a", "b", "c"]; "a=10, b=20" → {a: 10, b: 20}. */
export function parseLabels(text: string): string[] | Record<string, number> | { error: string } {
  const items = text
    .split(/[,，]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const withCounts = items.filter((s) => s.includes('='));
  if (withCounts.length === 0) return items;
  if (withCounts.length !== items.length) return { error: 'give counts for every label or for none' };
  const out: Record<string, number> = {};
  for (const item of items) {
    const [name, count] = item.split('=').map((s) => s.trim());
    const n = Number(count);
    if (name === '' || !Number.isInteger(n) || n < 0) return { error: `"${item}" is not name=count` };
    out[name] = n;
  }
  return out;
}

function showValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'boolean') return v ? 'y' : 'n';
  if (v !== null && typeof v === 'object') {
    return Object.entries(v)
      .map(([k, n]) => `${k}=${n}`)
      .join(', ');
  }
  return String(v);
}

function get(obj: Json, dotted: string): unknown {
  let v: unknown = obj;
  for (const key of dotted.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Json)[key];
  }
  return v;
}

function set(obj: Json, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let o = obj;
  for (const key of keys.slice(0, -1)) {
    const next = o[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) o[key] = {};
    o = o[key] as Json;
  }
  o[keys[keys.length - 1]] = value;
}

function unset(obj: Json, dotted: string): void {
  const keys = dotted.split('.');
  const parent = get(obj, keys.slice(0, -1).join('.'));
  const holder = keys.length === 1 ? obj : parent;
  if (holder !== null && typeof holder === 'object' && !Array.isArray(holder)) {
    delete (holder as Json)[keys[keys.length - 1]];
  }
}

/** Drops objects left empty by cleared answers (an empty `accuracy` would need a metric). */
function pruneEmpty(obj: Json): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      pruneEmpty(v as Json);
      if (Object.keys(v).length === 0 && k !== 'output') delete obj[k];
    }
  }
}
