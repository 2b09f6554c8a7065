/**
 * The student: its shape, its training config, and where its first weights come from.
 *
 *  - pretrained: a pretrained student checkpoint — an alembic model directory (e.g. the student of an
 *    earlier GED run) or a BERT/ERNIE checkpoint directory; its shape is the checkpoint's.
 *  - teacher: every k-th layer of the teacher (with its embeddings, pooler and head), when the widths
 *    match: a 6-layer teacher gives a 2-layer student its layers 3 and 6.
 *  - random: BERT's initialisation. The guide's FAQ warns that a student which is not pretrained
 *    distils to no guaranteed quality, so this is said out loud.
 * Teacher and student always share one vocabulary: distillation feeds both the same token ids.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { noGrad } from '../../engine/scope.js';
import { disposeAll } from '../../engine/state-io.js';
import { Vocab } from '../../data/vocab.js';
import { readBertConfig } from '../../nets/checkpoint-names.js';
import { loadPretrained } from '../../nets/pretrained.js';
import { checkpointVocabFile } from '../../config/checkpoint-tokenizer.js';
import type { TaskModel } from '../../tasks/task.js';
import type { DatasetConfig, TrainConfig, TrainerConfig } from '../../config/run-config.js';
import { readModelWeights } from '../../train/hf-layout.js';
import { MODEL_FILE, readManifest } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';
import type { DistillAdapter } from './adapter.js';
import type { StudentSpec } from './model-distill-config.js';

export interface TransformerShape {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  maxPositions: number;
}

export type StudentInit = 'pretrained' | 'teacher' | 'random';

export interface StudentPlan {
  shape: TransformerShape;
  init: StudentInit;
  /** For init "pretrained": the checkpoint and its kind. */
  pretrained?: { dir: string; kind: 'alembic' | 'bert' };
  /** Said to the user once (e.g. the random-initialisation warning). */
  warnings: string[];
}

export function shapeOfConfig(config: TrainConfig): TransformerShape {
  const m = config.model;
  return {
    layers: m.num_layers,
    hidden: m.hidden_size,
    heads: m.num_heads,
    ffn: m.ffn_size,
    maxPositions: m.max_positions,
  };
}

/** Decides the student's shape and initialisation from the config and the teacher. */
export function planStudent(spec: StudentSpec, teacher: TransformerShape): StudentPlan {
  const warnings: string[] = [];
  const usePretrained =
    spec.pretrained_dir !== undefined && (spec.init === 'auto' || spec.init === 'pretrained');
  if (usePretrained) {
    const dir = spec.pretrained_dir!;
    const { shape, kind } = pretrainedShape(dir);
    for (const [key, value] of [
      ['layers', shape.layers],
      ['hidden', shape.hidden],
      ['heads', shape.heads],
      ['ffn', shape.ffn],
    ] as const) {
      if (spec[key] !== undefined && spec[key] !== value)
        throw new UserError(
          `student.${key}: ${spec[key]} does not match the pretrained student's ${value} (${dir}); leave it out`,
        );
    }
    return { shape, init: 'pretrained', pretrained: { dir, kind }, warnings };
  }
  const shape: TransformerShape = {
    layers: spec.layers!,
    hidden: spec.hidden!,
    heads: spec.heads!,
    ffn: spec.ffn!,
    maxPositions: teacher.maxPositions,
  };
  if (shape.hidden % shape.heads !== 0)
    throw new UserError(`student.hidden: ${shape.hidden} is not divisible by student.heads ${shape.heads}`);
  const widthsMatch = shape.hidden === teacher.hidden && shape.ffn === teacher.ffn;
  if (spec.init === 'teacher' && !widthsMatch)
    throw new UserError(
      `student.init: "teacher" needs the teacher's widths (hidden ${teacher.hidden}, ffn ${teacher.ffn}); ` +
        `the student has hidden ${shape.hidden}, ffn ${shape.ffn}`,
    );
  if (spec.init === 'teacher' && shape.layers > teacher.layers)
    throw new UserError(
      `student.layers: ${shape.layers} is more than the teacher's ${teacher.layers} layers`,
    );
  if ((spec.init === 'teacher' || spec.init === 'auto') && widthsMatch && shape.layers <= teacher.layers) {
    return { shape, init: 'teacher', warnings };
  }
  warnings.push(
    `the student (${shape.layers} layers, hidden ${shape.hidden}) starts from random weights: as the guide's FAQ ` +
      'says, the quality of a student that is not pretrained is not guaranteed. A GED stage on plenty of ' +
      'unlabelled text, or a pretrained student (student.pretrained_dir), helps.',
  );
  return { shape, init: 'random', warnings };
}

function pretrainedShape(dir: string): { shape: TransformerShape; kind: 'alembic' | 'bert' } {
  if (existsSync(path.join(dir, MODEL_FILE))) {
    const m = readManifest(dir).config.model;
    if (m.net !== 'transformer')
      throw new UserError(`student.pretrained_dir: ${dir} holds a ${m.net} model, not a Transformer`);
    return {
      kind: 'alembic',
      shape: {
        layers: m.num_layers,
        hidden: m.hidden_size,
        heads: m.num_heads,
        ffn: m.ffn_size,
        maxPositions: m.max_positions,
      },
    };
  }
  const c = readBertConfig(dir);
  // An alembic model directory rebuilds its Transformer from the config's shape fields, which cannot
  // express these; a student made from such a checkpoint could not be loaded again.
  if (c.typeVocabSize !== 2 || c.useTaskId || c.hiddenAct !== 'gelu')
    throw new UserError(
      `student.pretrained_dir: ${c.source}: type_vocab_size ${c.typeVocabSize}, use_task_id ${c.useTaskId}, ` +
        `hidden_act ${c.hiddenAct}: only BERT-shaped checkpoints (2 token types, no task id, gelu) can be students`,
    );
  return {
    kind: 'bert',
    shape: {
      layers: c.numHiddenLayers,
      hidden: c.hiddenSize,
      heads: c.numAttentionHeads,
      ffn: c.intermediateSize,
      maxPositions: c.maxPositionEmbeddings,
    },
  };
}

/** The student's training config: the teacher's, with the student's Transformer and the stage's trainer. */
export function studentTrainConfig(
  teacher: TrainConfig,
  shape: TransformerShape,
  dropout: number,
  dataset: DatasetConfig,
  trainer: TrainerConfig,
): TrainConfig {
  return {
    ...teacher,
    dataset: { ...teacher.dataset, train: dataset.train, dev: dataset.dev, test: dataset.test },
    model: {
      ...teacher.model,
      net: 'transformer',
      num_layers: shape.layers,
      hidden_size: shape.hidden,
      num_heads: shape.heads,
      ffn_size: shape.ffn,
      max_positions: shape.maxPositions,
      dropout,
      pretrained_dir: undefined,
    },
    trainer,
  };
}

/**
 * Which teacher layer each student layer starts from: evenly spaced, ending at the teacher's last
 * (6 → 2: layers 2 and 5, 0-based; 6 → 4: 0, 2, 3, 5).
 */
export function teacherLayerMap(studentLayers: number, teacherLayers: number): number[] {
  return Array.from(
    { length: studentLayers },
    (_, i) => Math.floor(((i + 1) * teacherLayers) / studentLayers) - 1,
  );
}

const LAYER_NAME = /^(.*\.layer\.)(\d+)(\..*)$/;

/** Copies the first weights into a freshly built student, as planned. Returns what was done, in words. */
export function initialiseStudent(
  student: TaskModel<unknown>,
  teacher: TaskModel<unknown>,
  plan: StudentPlan,
  adapter: DistillAdapter,
): string {
  switch (plan.init) {
    case 'random':
      return 'random initialisation';
    case 'teacher':
      return copyTeacherLayers(student, teacher, plan.shape.layers, adapter.encoder(teacher).layers.length);
    case 'pretrained': {
      const { dir, kind } = plan.pretrained!;
      checkSameVocabulary(dir, adapter.vocab);
      if (kind === 'bert') {
        loadPretrained(adapter.encoder(student), dir);
        return `pretrained encoder from ${dir}`;
      }
      return loadAlembicStudent(student, dir);
    }
  }
}

function copyTeacherLayers(
  student: TaskModel<unknown>,
  teacher: TaskModel<unknown>,
  studentLayers: number,
  teacherLayers: number,
): string {
  const map = teacherLayerMap(studentLayers, teacherLayers);
  const source = teacher.stateDict();
  noGrad(() => {
    for (const [name, target] of student.stateDict()) {
      const m = LAYER_NAME.exec(name);
      const from = m ? `${m[1]}${map[Number(m[2])]}${m[3]}` : name;
      const value = source.get(from);
      if (!value || value.shape.join('x') !== target.shape.join('x'))
        throw new Error(`student init: the teacher has no ${from} of shape ${target.shape.join('x')}`);
      target.copy_(value);
    }
  });
  return `teacher layers ${map.map((l) => l + 1).join(', ')} of ${teacherLayers}`;
}

function checkSameVocabulary(dir: string, vocab: Vocab): void {
  const file = checkpointVocabFile(dir);
  if (file === undefined) return; // a checkpoint without its vocabulary: its embedding shape is checked on load
  const theirs = Vocab.load(file).tokens;
  const same = theirs.length === vocab.size && theirs.every((t, i) => t === vocab.tokens[i]);
  if (!same)
    throw new UserError(
      `student.pretrained_dir: ${file} is not the teacher's vocabulary; teacher and student must share one ` +
        '(fine-tune the teacher with dataset.tokenizer.vocab set to this file)',
    );
}

/** An alembic model directory's encoder (required whole) and head (when its shape fits). */
function loadAlembicStudent(student: TaskModel<unknown>, dir: string): string {
  const tensors = readModelWeights(dir);
  let head = 0;
  try {
    noGrad(() => {
      for (const [name, target] of student.stateDict()) {
        const value = tensors.get(name);
        const fits = value !== undefined && value.shape.join('x') === target.shape.join('x');
        if (name.startsWith('encoder.') && !fits)
          throw new UserError(`student.pretrained_dir: ${dir}: ${name} is missing or of another shape`);
        if (!fits) continue;
        target.copy_(value);
        if (!name.startsWith('encoder.')) head++;
      }
    });
  } finally {
    disposeAll(tensors);
  }
  return `pretrained student from ${dir}` + (head ? ' (encoder and head)' : ' (encoder)');
}
