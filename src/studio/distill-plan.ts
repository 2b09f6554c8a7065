/**
 * The distillation configs the studio writes for a trained run, with the guide's defaults, so one click
 * starts it: model distillation (a Transformer teacher → a student of half its layers and the same width,
 * initialised from every other teacher layer; TD1 then TD2, soft labels at temperature 2) and data
 * distillation (the run as teacher labels its training texts augmented ×10; a bag-of-words student
 * learns from gold + teacher-labelled data, with the gold-only baseline for the report). A request may
 * override any part of the config (`overrides`, merged key by key).
 */
import path from 'node:path';
import { startingConfig } from '../config/config-template.js';
import type { TrainConfig } from '../config/run-config.js';
import { DISTILL_TASKS } from '../distill/model/model-distill-config.js';
import { UserError } from '../util/errors.js';

export type DistillKind = 'model' | 'data';

/** The model directory of the student a distillation writes under its output_dir. */
export function studentModelDir(kind: DistillKind, outputDir: string): string {
  return kind === 'model'
    ? path.join(outputDir, 'student')
    : path.join(outputDir, 'student', DATA_STUDENT, 'distilled', 'best');
}

/** The training run (metrics.jsonl, report.html) that made the student. */
export function studentTrainingDir(kind: DistillKind, outputDir: string): string {
  return kind === 'model'
    ? path.join(outputDir, 'td2')
    : path.join(outputDir, 'student', DATA_STUDENT, 'distilled');
}

const DATA_STUDENT = 'bow';

export function distillConfig(
  kind: DistillKind,
  teacher: TrainConfig,
  teacherModelDir: string,
  outputDir: string,
  overrides: unknown,
): Record<string, unknown> {
  const base =
    kind === 'model'
      ? modelDistill(teacher, teacherModelDir, outputDir)
      : dataDistill(teacher, teacherModelDir, outputDir);
  return merge(base, overrides ?? {});
}

function dataset(t: TrainConfig): Record<string, unknown> {
  return {
    train: t.dataset.train,
    ...(t.dataset.dev && { dev: t.dataset.dev }),
    ...(t.dataset.test && { test: t.dataset.test }),
  };
}

function modelDistill(t: TrainConfig, teacherDir: string, outputDir: string): Record<string, unknown> {
  if (t.model.net !== 'transformer')
    throw new UserError(
      `distill: model distillation needs a Transformer teacher (this run is ${t.model.net}); use data distillation`,
    );
  if (!(DISTILL_TASKS as readonly string[]).includes(t.task))
    throw new UserError(`distill: model distillation takes ${DISTILL_TASKS.join(', ')}, not ${t.task}`);
  const m = t.model as TrainConfig['model'] & { num_layers?: number; num_heads?: number; ffn_size?: number };
  const layers = m.num_layers ?? 4;
  return {
    task: t.task,
    dataset: { ...dataset(t), tokenizer: { type: t.dataset.tokenizer.type }, max_len: t.dataset.max_len },
    teacher: { model_dir: teacherDir },
    student: {
      layers: Math.max(1, Math.ceil(layers / 2)),
      hidden: m.hidden_size,
      heads: m.num_heads ?? 4,
      ffn: m.ffn_size ?? 4 * m.hidden_size,
      init: 'auto',
    },
    stages: ['TD1', 'TD2'],
    prediction: { temperature: 2 },
    trainer: { epochs: 3, batch_size: t.trainer.batch_size, learning_rate: 0.001 },
    output_dir: outputDir,
  };
}

function dataDistill(t: TrainConfig, teacherDir: string, outputDir: string): Record<string, unknown> {
  if (t.task !== 'text_classification' && t.task !== 'text_pair_classification')
    throw new UserError(
      `distill: data distillation takes text_classification or text_pair_classification, not ${t.task}`,
    );
  const student = startingConfig(t.task, 'bow') as {
    model: Record<string, unknown>;
    trainer: Record<string, unknown>;
  };
  return {
    output_dir: outputDir,
    data: dataset(t),
    augment: { ratio: 10 },
    teacher: { model_dir: teacherDir },
    students: [
      {
        name: DATA_STUDENT,
        config: {
          task: t.task,
          dataset: { tokenizer: { type: t.dataset.tokenizer.type }, max_len: t.dataset.max_len },
          model: student.model,
          trainer: {
            epochs: student.trainer.epochs,
            batch_size: t.trainer.batch_size,
            learning_rate: student.trainer.learning_rate,
          },
        },
      },
    ],
  };
}

/** `over` merged into `base`: objects key by key, anything else replaced. */
function merge(base: Record<string, unknown>, over: unknown): Record<string, unknown> {
  if (over === null || typeof over !== 'object' || Array.isArray(over))
    throw new UserError('distill: overrides must be a JSON object');
  const out = { ...base };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    const b = out[k];
    out[k] =
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      b !== null &&
      typeof b === 'object' &&
      !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v)
        : v;
  }
  return out;
}
