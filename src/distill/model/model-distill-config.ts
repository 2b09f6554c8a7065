/**
 * The `alembic distill` config: the task data, the teacher (fine-tuned here in the FT stage, or an
 * already fine-tuned model directory), the student's shape and how it starts, the stages to run, and the
 * settings of each loss. Trainer settings are shared by every stage (`trainer`) and may be overridden per
 * stage (`stage_trainer`); each stage's complete trainer section is validated here, with the JSON path of
 * any mistake, so a typo fails before hours of training rather than between two stages.
 *
 *   {
 *     "task": "text_classification",
 *     "dataset": { "train": "train.tsv", "dev": "dev.tsv", "test": "test.tsv" },
 *     "general_data": "general.txt",
 *     "teacher": { "model": { "net": "transformer", "num_layers": 6, "hidden_size": 384, ... } },
 *     "student": { "layers": 4, "hidden": 192, "heads": 4, "ffn": 768 },
 *     "stages": ["FT", "GED", "TD1", "TD2"],
 *     "trainer": { "batch_size": 32, "learning_rate": 5e-4 },
 *     "stage_trainer": { "FT": { "learning_rate": 1e-4 }, "GED": { "epochs": 1 } },
 *     "output_dir": "out/distill"
 *   }
 */
import path from 'node:path';
import { z } from 'zod';
import {
  configSchema,
  parseConfig,
  stripComments,
  type DatasetConfig,
  type ModelConfig,
  type TrainConfig,
  type TrainerConfig,
} from '../../config/run-config.js';
import { UserError } from '../../util/errors.js';
import { applyOverrides } from '../../config/overrides.js';
import { readJsonFile } from '../../util/json-file.js';

export const STAGES = ['FT', 'GED', 'TD1', 'TD2'] as const;
export type Stage = (typeof STAGES)[number];
/** The student trained on hard labels alone, for the report's comparison. */
export const ALONE = 'alone';
export type TrainedStage = Stage | typeof ALONE;

export const DISTILL_TASKS = [
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
  'sequence_labeling',
] as const;

export const RELATION_KINDS = ['qk', 'vv', 'qq', 'kk'] as const;
export type RelationKind = (typeof RELATION_KINDS)[number];

const positiveInt = z.number().int().positive();
/** A trainer section without output_dir (each stage gets its own folder); checked in full per stage. */
const trainerOverrides = z.record(z.string(), z.unknown());

const distillSchema = z
  .object({
    task: z.enum(DISTILL_TASKS),
    /** The task data; `train` is required even when the teacher is given (the student learns from it). */
    dataset: z.record(z.string(), z.unknown()),
    /** GED: unlabelled general text, one passage per line. */
    general_data: z.string().optional(),
    /** GED reads at most this many lines of general_data (0 = all). */
    general_data_limit: z.number().int().min(0).default(0),
    teacher: z
      .object({
        /** An already fine-tuned alembic model directory (FT is then not run). */
        model_dir: z.string().optional(),
        /** The teacher to fine-tune in the FT stage (a Transformer). */
        model: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
    student: z
      .object({
        layers: positiveInt.optional(),
        hidden: positiveInt.optional(),
        heads: positiveInt.optional(),
        ffn: positiveInt.optional(),
        dropout: z.number().min(0).max(0.9).default(0.1),
        /**
         * auto: pretrained_dir if given, else every k-th teacher layer when hidden and ffn sizes match the
         * teacher's, else random (with a warning).
         */
        init: z.enum(['auto', 'pretrained', 'teacher', 'random']).default('auto'),
        /** A pretrained student: an alembic model directory or a BERT/ERNIE checkpoint directory. */
        pretrained_dir: z.string().optional(),
      })
      .strict(),
    stages: z.array(z.enum(STAGES)).min(1).default(['FT', 'TD1', 'TD2']),
    /** GED and TD1: MiniLM-style self-attention relation distillation of the student's last layer. */
    relation: z
      .object({
        /** Relation heads (must divide both hidden sizes); default the student's attention heads. */
        heads: positiveInt.optional(),
        /**
         * The teacher layer distilled, 1-based; negative counts from the end (−1 = last); "auto": the
         * layer whose relations have the most structure (lowest entropy) on the dev texts.
         */
        teacher_layer: z.union([z.number().int(), z.literal('auto')]).default(-1),
        kinds: z.array(z.enum(RELATION_KINDS)).min(1).default(['qk', 'vv']),
      })
      .strict()
      .default({ teacher_layer: -1, kinds: ['qk', 'vv'] }),
    /** TD2: soft-label cross-entropy at `temperature` (× T²) · soft_weight + gold-label loss · hard_weight. */
    prediction: z
      .object({
        temperature: z.number().positive().default(1),
        soft_weight: z.number().min(0).default(1),
        hard_weight: z.number().min(0).default(1),
      })
      .strict()
      .default({ temperature: 1, soft_weight: 1, hard_weight: 1 }),
    trainer: trainerOverrides.default({}),
    stage_trainer: z
      .object({
        FT: trainerOverrides.optional(),
        GED: trainerOverrides.optional(),
        TD1: trainerOverrides.optional(),
        TD2: trainerOverrides.optional(),
        alone: trainerOverrides.optional(),
      })
      .strict()
      .default({}),
    compare: z
      .object({
        /** Also train the same student on the gold labels alone (the report's baseline). */
        student_alone: z.boolean().default(true),
        /** Examples timed per batch size (taken from the evaluation split, repeated if short). */
        timing_examples: positiveInt.default(256),
        batch_sizes: z.array(positiveInt).min(1).default([1, 32]),
      })
      .strict()
      .default({ student_alone: true, timing_examples: 256, batch_sizes: [1, 32] }),
    output_dir: z.string(),
  })
  .strict();

type RawDistillConfig = z.infer<typeof distillSchema>;

export interface StudentSpec {
  layers?: number;
  hidden?: number;
  heads?: number;
  ffn?: number;
  dropout: number;
  init: 'auto' | 'pretrained' | 'teacher' | 'random';
  pretrained_dir?: string;
}

export interface RelationSpec {
  heads?: number;
  teacher_layer: number | 'auto';
  kinds: RelationKind[];
}

export interface PredictionSpec {
  temperature: number;
  soft_weight: number;
  hard_weight: number;
}

/** A validated config with paths resolved and every stage's trainer section complete. */
export interface DistillConfig {
  source: string;
  task: TrainConfig['task'];
  dataset: DatasetConfig;
  general_data?: string;
  general_data_limit: number;
  teacher: { model_dir?: string; model?: ModelConfig };
  student: StudentSpec;
  stages: Stage[];
  relation: RelationSpec;
  prediction: PredictionSpec;
  /** Per stage (and `alone`), the trainer section with output_dir set to the stage's folder. */
  trainers: Record<TrainedStage, TrainerConfig>;
  compare: RawDistillConfig['compare'];
  output_dir: string;
  /** The config as written (comments removed), kept in the report. */
  raw: unknown;
}

/** The folder of each stage under output_dir. */
export const STAGE_DIRS: Record<TrainedStage, string> = {
  FT: 'teacher',
  GED: 'ged',
  TD1: 'td1',
  TD2: 'td2',
  alone: 'student_alone',
};

export function parseDistillConfig(
  raw: unknown,
  source: string,
  baseDir = path.dirname(source),
): DistillConfig {
  const stripped = stripComments(raw);
  const parsed = distillSchema.safeParse(stripped);
  if (!parsed.success) throw new UserError(formatIssues(parsed.error.issues, source));
  const c = parsed.data;
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  const outputDir = resolve(c.output_dir)!;

  checkStageOrder(c.stages, source);
  const teacherDir = resolve(c.teacher.model_dir);
  if (!teacherDir && !c.stages.includes('FT'))
    throw new UserError(`${source}: teacher.model_dir: needed when the stages do not include FT`);
  if (!teacherDir && !c.teacher.model)
    throw new UserError(`${source}: teacher.model: the FT stage needs the teacher's model section`);
  if (c.stages.includes('GED') && !c.general_data)
    throw new UserError(
      `${source}: general_data: the GED stage needs unlabelled text (one passage per line)`,
    );
  if (c.student.init === 'pretrained' && !c.student.pretrained_dir)
    throw new UserError(`${source}: student.pretrained_dir: init "pretrained" needs a checkpoint directory`);
  if (!c.student.pretrained_dir || c.student.init === 'random' || c.student.init === 'teacher') {
    for (const key of ['layers', 'hidden', 'heads', 'ffn'] as const) {
      if (c.student[key] === undefined)
        throw new UserError(
          `${source}: student.${key}: required unless the student is a pretrained checkpoint`,
        );
    }
  }

  // One complete training config through the trainer's own schema checks dataset, teacher model and
  // the FT trainer at once; the other stages' trainer sections are checked the same way below.
  const ftOutput = path.join(outputDir, STAGE_DIRS.FT);
  const teacherModel = c.teacher.model ?? { net: 'transformer' };
  let base: TrainConfig;
  try {
    base = parseConfig(
      {
        task: c.task,
        dataset: c.dataset,
        model: teacherModel,
        trainer: { ...c.trainer, ...c.stage_trainer.FT, output_dir: ftOutput },
      },
      source,
      baseDir,
    );
  } catch (e) {
    // The training schema names its own sections; say where they are in this config.
    if (!(e instanceof UserError)) throw e;
    const ft = c.stage_trainer.FT ? 'stage_trainer.FT' : 'trainer';
    throw new UserError(
      e.message
        .replaceAll(`${source}: model.`, `${source}: teacher.model.`)
        .replaceAll(`${source}: trainer.`, `${source}: ${ft}.`),
    );
  }
  if (base.dataset.streaming === true)
    throw new UserError(
      `${source}: dataset.streaming: model distillation reads its training file into memory; ` +
        'set it to false or "auto"',
    );
  if (c.teacher.model && base.model.net !== 'transformer')
    throw new UserError(
      `${source}: teacher.model.net: distillation needs a Transformer teacher, not ${base.model.net}`,
    );

  const trainers = {} as Record<TrainedStage, TrainerConfig>;
  for (const stage of [...STAGES, ALONE] as const) {
    const trainer = {
      ...c.trainer,
      ...c.stage_trainer[stage],
      output_dir: path.join(outputDir, STAGE_DIRS[stage]),
    };
    const result = configSchema.shape.trainer.safeParse(trainer);
    if (!result.success) {
      const where = c.stage_trainer[stage] ? `stage_trainer.${stage}` : 'trainer';
      throw new UserError(formatIssues(result.error.issues, source, where));
    }
    trainers[stage] = result.data;
  }

  return {
    source,
    task: c.task,
    dataset: base.dataset,
    general_data: resolve(c.general_data),
    general_data_limit: c.general_data_limit,
    teacher: { model_dir: teacherDir, model: c.teacher.model ? base.model : undefined },
    student: { ...c.student, pretrained_dir: resolve(c.student.pretrained_dir) },
    stages: c.stages,
    relation: c.relation,
    prediction: c.prediction,
    trainers,
    compare: c.compare,
    output_dir: outputDir,
    raw: stripped,
  };
}

/** Reads a distillation config with `--set key.path=value` overrides applied. */
export function loadDistillConfig(file: string, overrides: readonly string[] = []): DistillConfig {
  return parseDistillConfig(applyOverrides(readJsonFile(file, 'config file'), overrides, file), file);
}

/** Stages run in the recipe's order, each at most once. */
function checkStageOrder(stages: Stage[], source: string): void {
  const order = stages.map((s) => STAGES.indexOf(s));
  for (let i = 1; i < order.length; i++) {
    if (order[i] <= order[i - 1])
      throw new UserError(
        `${source}: stages: run in the order ${STAGES.join(', ')}, each once (got ${stages.join(', ')})`,
      );
  }
  if (!stages.includes('TD2'))
    throw new UserError(`${source}: stages: TD2 is needed (it trains the student's prediction layer)`);
}

function formatIssues(issues: readonly z.core.$ZodIssue[], source: string, prefix?: string): string {
  return issues
    .slice(0, 8)
    .map((issue) => {
      const where = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(top level)';
      return `${source}: ${where}: ${issue.message}`;
    })
    .join('\n');
}
