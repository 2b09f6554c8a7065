/**
 * What the data page shows of a file: its format, columns, first rows, the task it looks like by the
 * guide's X→Y abstraction (one text → class, two texts → class or similarity, text → tag sequence,
 * context + question → span, text → text), its label counts, and the guide's data checks (enough
 * examples per label, a dev/test split). The detection only suggests; the training config decides, and
 * the task's own reader validates the file when training starts.
 */
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { dataFormatOf } from '../data/readers/data-format.js';
import { UserError } from '../util/errors.js';

export type DetectedTask =
  | 'text_classification'
  | 'pair_classification'
  | 'text_matching'
  | 'sequence_labeling'
  | 'reading_comprehension'
  | 'generation';

export interface Check {
  rule: string;
  ok: boolean;
  message: string;
}

export interface Preview {
  format: 'tsv' | 'csv' | 'jsonl' | 'json';
  columns: string[];
  rows: unknown[][];
  /** Examples counted (lines of a table; questions of a SQuAD file). */
  examples: number;
  task: DetectedTask | null;
  labels: Record<string, number>;
  checks: Check[];
}

/** The guide's floor: about 200 labelled examples per class before a model learns it reliably. */
export const MIN_PER_LABEL = 200;
/** The rows the page shows. */
const PREVIEW_ROWS = 20;
/** Bytes read for counting: the whole of any file a person uploads for a first model, bounded for memory. */
const MAX_READ = 64 * 1024 * 1024;
/** A column with at most this many distinct short values (or this share of the rows) holds labels. */
const MAX_LABELS = 100;

const TAG = /^(O|[BIESM]-.+|[BIESM]|S|PAD)$/;

export interface Table {
  format: Preview['format'];
  columns: string[];
  rows: string[][];
  /** Column names came from the file (a CSV header, JSON keys, a TSV header row). */
  named: boolean;
  truncated: boolean;
}

/** A data file read as a table, with the columns that play each role. */
export function analyseFile(file: string): { table: Table; roles: Roles } {
  const { text, truncated } = readHead(file);
  const table = toTable(file, text, truncated);
  return { table, roles: detect(table) };
}

export function previewFile(file: string): Preview {
  const { table, roles } = analyseFile(file);
  const labels = labelCounts(table, roles);
  return {
    format: table.format,
    columns: table.columns,
    rows: table.rows.slice(0, PREVIEW_ROWS),
    examples: table.rows.length,
    task: roles.task,
    labels,
    checks: checks(file, table, roles, labels),
  };
}

function readHead(file: string): { text: string; truncated: boolean } {
  const size = statSync(file).size;
  const n = Math.min(size, MAX_READ);
  const buf = Buffer.alloc(n);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, n, 0);
  } finally {
    closeSync(fd);
  }
  let text = buf.toString('utf8');
  if (size > n) text = text.slice(0, text.lastIndexOf('\n') + 1);
  return { text: text.replace(/^\uFEFF/, ''), truncated: size > n };
}

function toTable(file: string, text: string, truncated: boolean): Table {
  if (path.extname(file).toLowerCase() === '.json') return squadTable(file, text);
  const format = dataFormatOf(file);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (format === 'jsonl') {
    const objects = lines.map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new UserError(
          `${path.basename(file)}:${i + 1}: not a JSON object (a .jsonl file has one per line)`,
        );
      }
    });
    const columns = [...new Set(objects.flatMap((o) => (o && typeof o === 'object' ? Object.keys(o) : [])))];
    const cell = (v: unknown) => (Array.isArray(v) ? v.join(' ') : v === undefined ? '' : String(v));
    return {
      format,
      columns,
      rows: objects.map((o) => columns.map((c) => cell(o?.[c]))),
      named: true,
      truncated,
    };
  }
  if (format === 'csv') {
    let records: string[][];
    try {
      records = parseCsv(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
    } catch (e) {
      throw new UserError(`${path.basename(file)}: not readable as CSV: ${(e as Error).message}`);
    }
    const [header = [], ...rows] = records;
    return { format, columns: header, rows, named: true, truncated };
  }
  const rows = lines.map((l) => l.split('\t'));
  const first = rows[0] ?? [];
  const named = first.length > 0 && first.every((c) => HEADER_NAMES.has(c.trim()));
  const width = Math.max(0, ...rows.map((r) => r.length));
  const columns = named
    ? first.map((c) => c.trim())
    : Array.from({ length: width }, (_, i) => `column ${i + 1}`);
  return { format, columns, rows: named ? rows.slice(1) : rows, named, truncated };
}

/** SQuAD JSON: one row per question (context, question, first answer). */
function squadTable(file: string, text: string): Table {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path.basename(file)}: not valid JSON: ${(e as Error).message}`);
  }
  const rows: string[][] = [];
  const data = (json as { data?: unknown }).data;
  if (!Array.isArray(data))
    throw new UserError(
      `${path.basename(file)}: a .json data file is SQuAD-shaped: {"data": [{"paragraphs": …}]}`,
    );
  for (const article of data as {
    paragraphs?: { context?: string; qas?: { question?: string; answers?: { text?: string }[] }[] }[];
  }[])
    for (const p of article.paragraphs ?? [])
      for (const qa of p.qas ?? [])
        rows.push([p.context ?? '', qa.question ?? '', qa.answers?.[0]?.text ?? '']);
  return { format: 'json', columns: ['context', 'question', 'answer'], rows, named: true, truncated: false };
}

/** Header names the readers know (and the roles they play). */
const ROLE_OF: Record<string, Role> = {
  text: 'text',
  text_a: 'text',
  sentence: 'text',
  query: 'text',
  text_b: 'text_b',
  text_pair: 'text_b',
  label: 'label',
  labels: 'label',
  tokens: 'tokens',
  tags: 'tags',
  source: 'source',
  target: 'target',
  context: 'context',
  question: 'question',
  positive: 'text_b',
  negative: 'negative',
};
const HEADER_NAMES = new Set(Object.keys(ROLE_OF));

type Role =
  'text' | 'text_b' | 'label' | 'tokens' | 'tags' | 'source' | 'target' | 'context' | 'question' | 'negative';

export interface Roles {
  task: DetectedTask | null;
  /** The column holding labels (or tags), when the task has them. */
  labelColumn?: number;
  /** The tag column of sequence labelling (labels counted by entity type). */
  tags?: boolean;
  textColumns: number[];
}

function detect(t: Table): Roles {
  const byRole = new Map<Role, number>();
  if (t.named)
    t.columns.forEach((c, i) => ROLE_OF[c] && !byRole.has(ROLE_OF[c]) && byRole.set(ROLE_OF[c], i));
  const has = (r: Role) => byRole.has(r);
  if (t.format === 'json' || (has('context') && has('question')))
    return {
      task: 'reading_comprehension',
      textColumns: [byRole.get('context') ?? 0, byRole.get('question') ?? 1],
    };
  if (has('tokens') && has('tags'))
    return {
      task: 'sequence_labeling',
      labelColumn: byRole.get('tags'),
      tags: true,
      textColumns: [byRole.get('tokens')!],
    };
  if (has('source') && has('target'))
    return { task: 'generation', textColumns: [byRole.get('source')!, byRole.get('target')!] };
  if (has('text') && has('text_b'))
    return has('label')
      ? pairTask(t, byRole.get('label')!, [byRole.get('text')!, byRole.get('text_b')!])
      : { task: 'text_matching', textColumns: [byRole.get('text')!, byRole.get('text_b')!] };
  if (has('text') && has('label'))
    return {
      task: 'text_classification',
      labelColumn: byRole.get('label'),
      textColumns: [byRole.get('text')!],
    };
  return detectByShape(t);
}

/** Two texts and a label: classes, or a similarity score (numbers that are not a few class ids). */
function pairTask(t: Table, labelColumn: number, textColumns: number[]): Roles {
  const values = t.rows.map((r) => (r[labelColumn] ?? '').trim());
  const numeric = values.every((v) => v !== '' && Number.isFinite(Number(v)));
  const fractional = numeric && values.some((v) => !Number.isInteger(Number(v)));
  return { task: fractional ? 'text_matching' : 'pair_classification', labelColumn, textColumns };
}

function detectByShape(t: Table): Roles {
  const width = t.columns.length;
  if (t.rows.length === 0 || width < 2) return { task: null, textColumns: width ? [0] : [] };
  const last = width - 1;
  if (width === 2 && looksTagged(t))
    return { task: 'sequence_labeling', labelColumn: 1, tags: true, textColumns: [0] };
  if (isLabelColumn(t, last)) {
    if (width === 2) return { task: 'text_classification', labelColumn: 1, textColumns: [0] };
    return pairTask(t, last, [0, 1]);
  }
  if (width === 2) return { task: 'generation', textColumns: [0, 1] };
  // Three texts: query, positive, negative (pairwise matching data).
  return { task: 'text_matching', textColumns: [0, 1, 2] };
}

/** Space-separated tokens and as many tags, the tags from a small set such as B-PER, I-PER, O. */
function looksTagged(t: Table): boolean {
  const sample = t.rows.slice(0, 200);
  const fits = sample.filter((r) => {
    const tokens = (r[0] ?? '').trim().split(/\s+/);
    const tags = (r[1] ?? '').trim().split(/\s+/);
    return tokens.length === tags.length && tags.length > 1 && tags.every((x) => TAG.test(x));
  });
  return sample.length > 0 && fits.length >= 0.9 * sample.length;
}

function isLabelColumn(t: Table, column: number): boolean {
  const values = t.rows.map((r) => (r[column] ?? '').trim());
  const distinct = new Set(values);
  const short = values.every((v) => v.length <= 40);
  return short && distinct.size <= Math.max(2, Math.min(MAX_LABELS, Math.ceil(values.length / 3)));
}

function labelCounts(t: Table, roles: Roles): Record<string, number> {
  const counts: Record<string, number> = {};
  if (roles.labelColumn === undefined) return counts;
  for (const r of t.rows) {
    const cell = (r[roles.labelColumn] ?? '').trim();
    if (roles.tags) {
      // Entity types, counted once per entity (its B- or S- tag); plain tags (POS) counted as they are.
      for (const tag of cell.split(/\s+/)) {
        const m = /^[BS]-(.+)$/.exec(tag);
        if (m) counts[m[1]] = (counts[m[1]] ?? 0) + 1;
        else if (!/^([IEM]-.+|O)$/.test(tag) && tag !== '') counts[tag] = (counts[tag] ?? 0) + 1;
      }
    } else counts[cell] = (counts[cell] ?? 0) + 1;
  }
  return counts;
}

function checks(file: string, t: Table, roles: Roles, labels: Record<string, number>): Check[] {
  const out: Check[] = [];
  const n = t.rows.length;
  if (t.truncated)
    out.push({
      rule: 'size',
      ok: true,
      message: `counted on the first ${n} examples (the file is over 64 MB)`,
    });
  out.push({
    rule: 'task',
    ok: roles.task !== null,
    message:
      roles.task === null
        ? 'no task recognised: give text<TAB>label lines (or a header naming text, text_b, label, tokens, tags, source, target)'
        : `looks like ${roles.task} (${n} examples)`,
  });
  const names = Object.keys(labels);
  if (roles.labelColumn !== undefined) {
    out.push({
      rule: 'two_labels',
      ok: names.length >= 2,
      message:
        names.length >= 2
          ? `${names.length} labels`
          : `only one label ("${names[0] ?? ''}"): a model needs two or more`,
    });
    const few = names.filter((l) => labels[l] < MIN_PER_LABEL);
    out.push({
      rule: 'min_per_label',
      ok: few.length === 0,
      message:
        few.length === 0
          ? `every label has at least ${MIN_PER_LABEL} examples`
          : `fewer than ${MIN_PER_LABEL} examples for ${few.map((l) => `"${l}" (${labels[l]})`).join(', ')}: label more of these`,
    });
    const sizes = names.map((l) => labels[l]);
    const ratio = sizes.length > 1 ? Math.max(...sizes) / Math.max(1, Math.min(...sizes)) : 1;
    out.push({
      rule: 'balance',
      ok: ratio <= 10,
      message:
        ratio <= 10
          ? 'the labels are not badly unbalanced'
          : `the largest label has ${ratio.toFixed(0)}× the examples of the smallest: consider more data for the small ones or balancing`,
    });
  }
  const empty = t.rows.filter((r) => roles.textColumns.some((c) => (r[c] ?? '').trim() === '')).length;
  out.push({
    rule: 'no_empty_text',
    ok: empty === 0,
    message: empty === 0 ? 'no empty texts' : `${empty} examples have an empty text`,
  });
  const seen = new Set<string>();
  let duplicates = 0;
  for (const r of t.rows) {
    const key = r.join('\t');
    if (seen.has(key)) duplicates++;
    seen.add(key);
  }
  out.push({
    rule: 'duplicates',
    ok: duplicates <= n * 0.01,
    message: duplicates === 0 ? 'no duplicate examples' : `${duplicates} duplicate examples`,
  });
  const split = splitSiblings(file);
  out.push({
    rule: 'dev_test_split',
    ok: split !== undefined,
    message:
      split !== undefined
        ? `dev and test files found beside it (${split.join(', ')})`
        : 'no dev/test files: split off a dev and a test set (with a seed) before training',
  });
  return out;
}

/** The dev and test files of a `…train…` file, when both exist beside it. */
function splitSiblings(file: string): string[] | undefined {
  const base = path.basename(file);
  if (!base.includes('train')) return undefined;
  const siblings = ['dev', 'test'].map((s) => base.replace('train', s));
  return siblings.every((s) => existsSync(path.join(path.dirname(file), s))) ? siblings : undefined;
}
