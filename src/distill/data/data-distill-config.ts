/**
 * The data-distillation pipeline config (`alembic data-distill --config F`), guide §6.3: fine-tune a
 * teacher (or take a trained one), label augmented and/or unlabelled text with it, train students on
 * gold + teacher-labelled data. Teacher and student models are ordinary training configs (a file path or
 * an inline object) whose dataset files and output_dir the pipeline fills in. Relative paths are resolved
 * against the folder of the file that holds them.
 */
import path from 'node:path';
import { z } from 'zod';
import { softLabelsSchema, validateConfig } from '../../config/run-config.js';
import { UserError } from '../../util/errors.js';
import { applyOverrides } from '../../config/overrides.js';
import { readJsonFile } from '../../util/json-file.js';

export const POOL_SOURCES = ['augmented', 'unlabelled'] as const;

const trainConfigRef = z.union([z.string(), z.record(z.string(), z.unknown())]);

const dataSchema = z
  .object({
    /** Gold labelled data (`text<TAB>label`): the teacher's training set, and part.0 of the student's. */
    train: z.string(),
    dev: z.string().optional(),
    /** The report compares models on test (on dev when there is no test file). */
    test: z.string().optional(),
    /** Unlabelled text (one example per line, text columns only), labelled by the teacher too. */
    unlabelled: z.string().optional(),
  })
  .strict();

const augmentSchema = z
  .object({
    ratio: z.number().int().min(1).default(10),
    strategies: z.string().default('unk,pos,nsample'),
    p: z.number().min(0).max(1).default(0.1),
    seed: z.number().int().default(1),
    pos_lexicon: z.string().optional(),
  })
  .strict();

const teacherSchema = z.union([
  z.object({ config: trainConfigRef }).strict(),
  z.object({ model_dir: z.string() }).strict(),
]);

const labellingSchema = z
  .object({
    batch_size: z.number().int().positive().default(64),
    /** Also write the teacher's probabilities (automatic when a student uses soft labels). */
    probabilities: z.boolean().default(false),
    /** Lines between durable progress points (fsync + progress marker). */
    sync_every: z.number().int().positive().default(2048),
    /** Threads for the teacher while labelling (default: all cores). */
    threads: z.number().int().positive().optional(),
  })
  .strict();

const studentSchema = z
  .object({
    /** Folder name under student/ (e.g. "bow"). */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
    config: trainConfigRef,
    /** Train against the teacher's probabilities instead of its labels only. */
    soft_labels: softLabelsSchema.optional(),
    /** Also train this student on the gold data alone, the baseline of the report. */
    gold_only: z.boolean().default(true),
    /**
     * Which teacher-labelled texts the distilled student trains on (with part.0): "augmented",
     * "unlabelled" or both (default: all there are). One labelling pass serves every choice.
     */
    sources: z.array(z.enum(POOL_SOURCES)).min(1).optional(),
    /**
     * Keep only the teacher-labelled lines whose most probable label has at least this probability (the
     * gold lines are always kept): an over-confident teacher's surest labels are its most accurate ones
     * (docs/benchmarks.md measures it). Default: every line.
     */
    min_confidence: z.number().gt(0).max(1).optional(),
  })
  .strict();

const reportSchema = z
  .object({
    /** Examples predicted one at a time (batch 1, one thread) to measure each model's QPS. */
    qps_examples: z.number().int().positive().default(200),
    /** Timing rounds, interleaved across the models; each model's best round counts. */
    qps_rounds: z.number().int().positive().default(3),
  })
  .strict();

export const dataDistillSchema = z
  .object({
    /** The work folder, `distill/<task>` in the guide: teacher/, student/, report.json. */
    output_dir: z.string(),
    data: dataSchema,
    augment: augmentSchema.optional(),
    teacher: teacherSchema,
    labelling: labellingSchema.default(labellingSchema.parse({})),
    students: z.array(studentSchema).min(1),
    report: reportSchema.default(reportSchema.parse({})),
  })
  .strict();

export type DataDistillConfig = z.infer<typeof dataDistillSchema>;
export type StudentSpec = DataDistillConfig['students'][number];

/** A training config given by reference: its raw JSON and the folder its relative paths start from. */
export interface ConfigSource {
  raw: Record<string, unknown>;
  source: string;
  baseDir: string;
}

export interface ResolvedDataDistillConfig extends DataDistillConfig {
  /** The file the config came from (for messages). */
  source: string;
  teacherSource?: ConfigSource;
  studentSources: ConfigSource[];
}

export function parseDataDistillConfig(
  raw: unknown,
  source: string,
  baseDir = path.dirname(source),
): ResolvedDataDistillConfig {
  const c = validateConfig(dataDistillSchema, raw, source);
  const resolve = (p: string) => path.resolve(baseDir, p);
  const optional = (p: string | undefined) => (p === undefined ? undefined : resolve(p));
  c.output_dir = resolve(c.output_dir);
  c.data = {
    train: resolve(c.data.train),
    dev: optional(c.data.dev),
    test: optional(c.data.test),
    unlabelled: optional(c.data.unlabelled),
  };
  if (c.augment) c.augment.pos_lexicon = optional(c.augment.pos_lexicon);
  if (!c.augment && !c.data.unlabelled) {
    throw new UserError(
      `${source}: nothing for the teacher to label: give "augment" settings and/or data.unlabelled`,
    );
  }
  const names = new Set<string>();
  for (const [i, s] of c.students.entries()) {
    if (names.has(s.name)) throw new UserError(`${source}: students: the name "${s.name}" is used twice`);
    names.add(s.name);
    const missing = s.sources?.find((name) => (name === 'augmented' ? !c.augment : !c.data.unlabelled));
    if (missing) {
      const why =
        missing === 'augmented' ? 'there are no "augment" settings' : 'data.unlabelled is not given';
      throw new UserError(`${source}: students.${i}.sources: "${missing}", but ${why}`);
    }
  }
  let teacherSource: ConfigSource | undefined;
  if ('model_dir' in c.teacher) c.teacher = { model_dir: resolve(c.teacher.model_dir) };
  else teacherSource = configSource(c.teacher.config, `${source}: teacher.config`, baseDir);
  const studentSources = c.students.map((s, i) =>
    configSource(s.config, `${source}: students.${i}.config`, baseDir),
  );
  return { ...c, source, teacherSource, studentSources };
}

/** Reads a data-distillation config with `--set key.path=value` overrides applied. */
export function loadDataDistillConfig(
  file: string,
  overrides: readonly string[] = [],
): ResolvedDataDistillConfig {
  return parseDataDistillConfig(applyOverrides(readJsonFile(file, 'config file'), overrides, file), file);
}

function configSource(ref: string | Record<string, unknown>, where: string, baseDir: string): ConfigSource {
  if (typeof ref !== 'string') return { raw: ref, source: where, baseDir };
  const file = path.resolve(baseDir, ref);
  const raw = readJsonFile(file, 'config file');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${file}: a training config must be a JSON object`);
  }
  return { raw: raw as Record<string, unknown>, source: file, baseDir: path.dirname(file) };
}
