/**
 * Pipelines: several trained models chained over the same texts, run with
 * `alembic predict --pipeline pipeline.json`. The classic one is entity-relation extraction — a
 * sequence-labelling (NER) model finds the entities, then a relation classifier reads every ordered
 * pair of them in context:
 *
 *   { "steps": [
 *       { "name": "ner", "kind": "entities", "model": "ner/best" },
 *       { "name": "rel", "kind": "relations", "model": "rel/best", "entities": "ner",
 *         "none_label": "NA", "type_pairs": [["PER", "ORG"]] },
 *       { "name": "topic", "kind": "classify", "model": "topic/best" } ] }
 *
 * Step kinds: `entities` (a sequence_labeling model), `relations` (a text_classification model reading
 * the text with the pair marked by relationInput(), or a text_pair_classification model reading
 * "head [SEP] tail" against the text), `classify` (any single-text classifier; its label is recorded).
 * Steps talk to their models only through the Task interface and model directories.
 *
 * Input: one text per line, or JSON lines `{"text": …, "entities": [{"text", "type"}], "relations":
 * [{"head", "relation", "tail"}]}` whose gold entities/relations give end-to-end metrics: entity and
 * relation-triple precision/recall/F1 (a triple is right when head text, relation and tail text all are).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { ClassificationExample } from '../data/readers/types.js';
import { prfFromCounts, type PRF } from '../metrics/common.js';
import { loadModelDir, type LoadedModel } from '../train/model-dir.js';
import { InputError, UserError } from '../util/errors.js';
import type { ClassificationPrediction } from '../tasks/classification.js';
import type { SequenceInput, SequencePrediction } from '../tasks/sequence-labeling.js';
import { readJsonFile } from '../util/json-file.js';

const name = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');

const stepSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('entities'), name, model: z.string() }).strict(),
  z
    .object({
      kind: z.literal('relations'),
      name,
      model: z.string(),
      /** The entities step whose entities are paired. */
      entities: z.string(),
      /** The classifier's label for "no relation". */
      none_label: z.string().default('NA'),
      /** Only these [head type, tail type] pairs are classified (default: every ordered pair). */
      type_pairs: z.array(z.tuple([z.string(), z.string()])).optional(),
      /** At most this many pairs per text (the nearest pairs first). */
      max_pairs: z.number().int().positive().default(100),
    })
    .strict(),
  z.object({ kind: z.literal('classify'), name, model: z.string() }).strict(),
]);

export const pipelineSchema = z.object({ steps: z.array(stepSchema).min(1) }).strict();
export type PipelineStep = z.infer<typeof stepSchema>;

export interface PipelineEntity {
  type: string;
  text: string;
  /** [start, end) in the input text (JavaScript string indices). */
  start: number;
  end: number;
}

export interface Triple {
  head: string;
  relation: string;
  tail: string;
  head_type?: string;
  tail_type?: string;
}

export interface PipelineRecord {
  text: string;
  /** Gold annotations, when the input gives them. */
  gold?: { entities?: { text: string; type: string }[]; relations?: Triple[] };
  line?: number;
}

export interface PipelineOutput {
  text: string;
  entities: PipelineEntity[];
  relations: Triple[];
  /** Label of each classify step, by step name. */
  labels: Record<string, string>;
}

interface LoadedStep {
  step: PipelineStep;
  model: LoadedModel;
}

export interface Pipeline {
  file: string;
  steps: LoadedStep[];
}

export function loadPipeline(file: string): Pipeline {
  const raw = readJsonFile(file, 'pipeline');
  const r = pipelineSchema.safeParse(raw);
  if (!r.success) {
    throw new UserError(
      r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'),
    );
  }
  const seen = new Map<string, PipelineStep>();
  const steps = r.data.steps.map((step, i) => {
    const where = `${file}: steps.${i}`;
    if (seen.has(step.name)) throw new UserError(`${where}.name: "${step.name}" is used twice`);
    if (step.kind === 'relations' && seen.get(step.entities)?.kind !== 'entities')
      throw new UserError(`${where}.entities: "${step.entities}" is not an earlier entities step`);
    seen.set(step.name, step);
    const model = loadModelDir(path.resolve(path.dirname(file), step.model));
    const want =
      step.kind === 'entities'
        ? ['sequence_labeling']
        : step.kind === 'classify'
          ? ['text_classification']
          : ['text_classification', 'text_pair_classification'];
    if (!want.includes(model.manifest.task))
      throw new UserError(
        `${where}.model: a ${step.kind} step needs a ${want.join(' or ')} model, not ${model.manifest.task}`,
      );
    return { step, model };
  });
  return { file, steps };
}

export function disposePipeline(p: Pipeline): void {
  for (const s of p.steps) s.model.model.dispose();
}

/** Reads pipeline input: plain text lines, or JSON lines with `text` and optional gold annotations. */
export function readPipelineInput(file: string): PipelineRecord[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const records: PipelineRecord[] = [];
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.trim() === '') return;
    if (!raw.trimStart().startsWith('{')) {
      records.push({ text: raw, line: lineNo });
      return;
    }
    let obj: { text?: unknown; entities?: unknown; relations?: unknown };
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new InputError({ file, line: lineNo }, `not valid JSON: ${(e as Error).message}`);
    }
    if (typeof obj.text !== 'string' || obj.text.trim() === '')
      throw new InputError({ file, line: lineNo, field: 'text' }, 'must be a non-empty string');
    const gold: PipelineRecord['gold'] = {};
    if (obj.entities !== undefined) {
      if (
        !Array.isArray(obj.entities) ||
        obj.entities.some((e) => typeof e?.text !== 'string' || typeof e?.type !== 'string')
      )
        throw new InputError({ file, line: lineNo, field: 'entities' }, 'must be a list of {"text", "type"}');
      gold.entities = obj.entities;
    }
    if (obj.relations !== undefined) {
      const ok = (t: Triple) =>
        ['head', 'relation', 'tail'].every((k) => typeof t?.[k as keyof Triple] === 'string');
      if (!Array.isArray(obj.relations) || !obj.relations.every(ok))
        throw new InputError(
          { file, line: lineNo, field: 'relations' },
          'must be a list of {"head", "relation", "tail"}',
        );
      gold.relations = obj.relations;
    }
    records.push({ text: obj.text, gold, line: lineNo });
  });
  if (records.length === 0) throw new UserError(`${file}: no input`);
  return records;
}

/** How a relation classifier sees an ordered entity pair: markers in the text, or "head [SEP] tail" + text. */
export function relationInput(
  text: string,
  head: Pick<PipelineEntity, 'start' | 'end' | 'text'>,
  tail: Pick<PipelineEntity, 'start' | 'end' | 'text'>,
  form: 'marked' | 'pair' = 'marked',
): ClassificationExample {
  if (form === 'pair') return { text: `${head.text} [SEP] ${tail.text}`, textB: text };
  // Inserted from the end; at one position the opening marker goes in first so the closing one precedes it.
  const marks = [
    { at: head.start, s: '<e1>' },
    { at: head.end, s: '</e1>' },
    { at: tail.start, s: '<e2>' },
    { at: tail.end, s: '</e2>' },
  ].sort((a, b) => b.at - a.at || Number(a.s.startsWith('</')) - Number(b.s.startsWith('</')));
  let out = text;
  for (const m of marks) out = out.slice(0, m.at) + m.s + out.slice(m.at);
  return { text: out };
}

/** Each token's [start, end) in the text: from the reader's spans, else found left to right. */
export function tokenOffsets(text: string, e: SequenceInput): Array<[number, number]> {
  if (e.spans && e.text === text) return e.spans;
  const lower = text.toLowerCase();
  let cursor = 0;
  return e.tokens.map((tok) => {
    const at = lower.indexOf(tok.toLowerCase(), cursor);
    if (at < 0) return [cursor, cursor];
    cursor = at + tok.length;
    return [at, cursor];
  });
}

async function runEntities(m: LoadedModel, texts: string[], batchSize: number): Promise<PipelineEntity[][]> {
  // The task reads its own input format (raw lines are cut by its tokenizer), through a temporary file.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-pipeline-'));
  try {
    const file = path.join(dir, 'texts.txt');
    writeFileSync(file, texts.map((t) => t.replace(/[\t\r\n]/g, ' ')).join('\n') + '\n');
    const examples = (await m.task.read(file, { labelled: false })) as SequenceInput[];
    const out: PipelineEntity[][] = [];
    for (let i = 0; i < examples.length; i += batchSize) {
      const chunk = examples.slice(i, i + batchSize);
      const preds = m.task.predict(
        m.model,
        chunk.map((e) => m.task.encode(e)),
      ) as SequencePrediction[];
      chunk.forEach((e, k) => {
        const text = texts[i + k];
        const offsets = tokenOffsets(text, e);
        out.push(
          preds[k].entities.map((ent) => {
            const start = offsets[ent.start][0];
            const end = offsets[ent.end - 1][1];
            return { type: ent.type, start, end, text: end > start ? text.slice(start, end) : ent.text };
          }),
        );
      });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function classify(m: LoadedModel, examples: ClassificationExample[], batchSize: number): string[] {
  const labels: string[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const preds = m.task.predict(
      m.model,
      chunk.map((e) => m.task.encode(e)),
    ) as ClassificationPrediction[];
    labels.push(...preds.map((p) => p.labels[0] ?? ''));
  }
  return labels;
}

/** The ordered entity pairs a relations step classifies, nearest first, at most max_pairs. */
function candidatePairs(
  entities: PipelineEntity[],
  step: Extract<PipelineStep, { kind: 'relations' }>,
): [PipelineEntity, PipelineEntity][] {
  const pairs: [PipelineEntity, PipelineEntity][] = [];
  for (const h of entities)
    for (const t of entities) {
      if (h === t || (h.start < t.end && t.start < h.end)) continue;
      if (step.type_pairs && !step.type_pairs.some(([a, b]) => a === h.type && b === t.type)) continue;
      pairs.push([h, t]);
    }
  const gap = ([h, t]: [PipelineEntity, PipelineEntity]) =>
    Math.max(h.start, t.start) - Math.min(h.end, t.end);
  return pairs.sort((a, b) => gap(a) - gap(b)).slice(0, step.max_pairs);
}

export async function runPipeline(p: Pipeline, texts: string[], batchSize = 64): Promise<PipelineOutput[]> {
  const outputs: PipelineOutput[] = texts.map((text) => ({ text, entities: [], relations: [], labels: {} }));
  const entitiesBy = new Map<string, PipelineEntity[][]>();
  for (const { step, model } of p.steps) {
    if (step.kind === 'entities') {
      const found = await runEntities(model, texts, batchSize);
      entitiesBy.set(step.name, found);
      found.forEach((list, i) => outputs[i].entities.push(...list));
    } else if (step.kind === 'classify') {
      classify(
        model,
        texts.map((text) => ({ text })),
        batchSize,
      ).forEach((label, i) => (outputs[i].labels[step.name] = label));
    } else {
      const form = model.manifest.task === 'text_pair_classification' ? 'pair' : 'marked';
      const jobs = entitiesBy
        .get(step.entities)!
        .flatMap((list, i) => candidatePairs(list, step).map(([h, t]) => ({ i, h, t })));
      const labels = classify(
        model,
        jobs.map((j) => relationInput(texts[j.i], j.h, j.t, form)),
        batchSize,
      );
      jobs.forEach((j, k) => {
        if (labels[k] === step.none_label) return;
        outputs[j.i].relations.push({
          head: j.h.text,
          relation: labels[k],
          tail: j.t.text,
          head_type: j.h.type,
          tail_type: j.t.type,
        });
      });
    }
  }
  return outputs;
}

export interface PipelineMetrics {
  entities?: PRF & { gold: number; predicted: number; correct: number };
  relations?: PRF & { gold: number; predicted: number; correct: number };
}

/** Micro P/R/F1 over the records that carry gold annotations (entities by type+text, triples exactly). */
export function pipelineMetrics(records: PipelineRecord[], outputs: PipelineOutput[]): PipelineMetrics {
  const count = (
    gold: (r: PipelineRecord) => string[] | undefined,
    pred: (o: PipelineOutput) => string[],
  ) => {
    let g = 0;
    let p = 0;
    let c = 0;
    let any = false;
    records.forEach((r, i) => {
      const goldKeys = gold(r);
      if (!goldKeys) return;
      any = true;
      const gs = new Set(goldKeys);
      const ps = new Set(pred(outputs[i]));
      g += gs.size;
      p += ps.size;
      for (const k of ps) if (gs.has(k)) c++;
    });
    if (!any) return undefined;
    return { ...prfFromCounts(c, p - c, g - c), gold: g, predicted: p, correct: c };
  };
  const tripleKey = (t: Triple) => `${t.head}\u0001${t.relation}\u0001${t.tail}`;
  const entityKey = (e: { type: string; text: string }) => `${e.type}\u0001${e.text}`;
  return {
    entities: count(
      (r) => r.gold?.entities?.map(entityKey),
      (o) => o.entities.map(entityKey),
    ),
    relations: count(
      (r) => r.gold?.relations?.map(tripleKey),
      (o) => o.relations.map(tripleKey),
    ),
  };
}

/** `alembic predict --pipeline`: JSON lines to stdout; end-to-end metrics to stderr when gold is given. */
export async function predictWithPipeline(
  pipelineFile: string,
  inputFile: string,
  batchSize: number,
  write: (s: string) => void = (s) => process.stdout.write(s),
  report: (s: string) => void = (s) => process.stderr.write(s),
): Promise<PipelineMetrics> {
  const p = loadPipeline(pipelineFile);
  try {
    const records = readPipelineInput(inputFile);
    const outputs = await runPipeline(
      p,
      records.map((r) => r.text),
      batchSize,
    );
    write(outputs.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const metrics = pipelineMetrics(records, outputs);
    for (const [what, m] of Object.entries(metrics)) {
      if (!m) continue;
      report(
        `pipeline ${what}: precision ${m.precision.toFixed(4)}, recall ${m.recall.toFixed(4)}, f1 ${m.f1.toFixed(4)} ` +
          `(${m.correct} correct of ${m.predicted} predicted, ${m.gold} gold)\n`,
      );
    }
    return metrics;
  } finally {
    disposePipeline(p);
  }
}
