/**
 * Distillation objectives: TaskModels whose loss() runs the teacher and the student on the same batch,
 * handed to the unchanged training loop as its `objective`. The student is the only child module, so
 * the optimizer, gradient clipping and checkpoints see the student's parameters and nothing else; the
 * teacher is held aside, kept in eval mode and run under noGrad — it is never updated.
 */
import { fromTyped } from '../../engine/create.js';
import { Module } from '../../engine/nn/module.js';
import { noGrad, tidy } from '../../engine/scope.js';
import type { Tensor } from '../../engine/tensor.js';
import type { LayerTrace } from '../../nets/transformer.js';
import type { TaskModel } from '../../tasks/task.js';
import type { PredictionSpec, RelationKind } from './model-distill-config.js';
import type { DistillAdapter } from './adapter.js';
import { softLabelLoss } from '../soft-label-loss.js';
import { relationLoss } from './relation-loss.js';
import { inferenceBatches } from '../../nets/eval-mode.js';

abstract class DistillObjective extends Module implements TaskModel<unknown> {
  constructor(
    readonly student: TaskModel<unknown>,
    readonly teacher: TaskModel<unknown>,
    readonly adapter: DistillAdapter,
  ) {
    super();
    this.child('student', student);
    this.training = student.training; // the wrapper's mode is the student's
    teacher.eval();
  }

  /** The teacher's computation: eval mode (no dropout), no autograd graph. */
  protected withTeacher<T>(fn: (teacher: TaskModel<unknown>) => T): T {
    if (this.teacher.training) this.teacher.eval();
    return noGrad(() => fn(this.teacher));
  }

  abstract loss(batch: unknown[]): Tensor;
}

export interface RelationSettings {
  heads: number;
  /** 0-based index of the teacher layer distilled. */
  teacherLayer: number;
  kinds: readonly RelationKind[];
}

/** GED and TD1: the student's last layer learns the teacher's chosen layer's self-attention relations. */
export class RelationObjective extends DistillObjective {
  constructor(
    student: TaskModel<unknown>,
    teacher: TaskModel<unknown>,
    adapter: DistillAdapter,
    readonly settings: RelationSettings,
  ) {
    super(student, teacher, adapter);
  }

  loss(batch: unknown[]): Tensor {
    const input = this.adapter.encoderInput(this.student, batch);
    const t = this.withTeacher((teacher) =>
      traceOf(this.adapter, teacher, input, this.settings.teacherLayer),
    );
    const s = traceOf(this.adapter, this.student, input, -1);
    return relationLoss(t, s, input.mask, { heads: this.settings.heads, kinds: this.settings.kinds });
  }
}

function traceOf(
  adapter: DistillAdapter,
  model: TaskModel<unknown>,
  input: ReturnType<DistillAdapter['encoderInput']>,
  layer: number,
): LayerTrace {
  const layers = adapter.encoder(model).encode(input, { trace: true }).layers!;
  return layers[layer < 0 ? layers.length + layer : layer];
}

/** The parts of the TD2 loss, for logging and tests. */
export interface PredictionLossParts {
  soft: Tensor;
  hard: Tensor;
  total: Tensor;
}

/**
 * TD2: soft labels from the teacher's outputs plus the gold labels, weighted. The teacher is fixed, so
 * where an example has one output row its soft labels are computed once and reused in later epochs.
 */
export class PredictionObjective extends DistillObjective {
  private readonly softLabels = new WeakMap<object, Float32Array>();

  constructor(
    student: TaskModel<unknown>,
    teacher: TaskModel<unknown>,
    adapter: DistillAdapter,
    readonly settings: PredictionSpec,
  ) {
    super(student, teacher, adapter);
  }

  /** The teacher's output rows for a batch [N, C]. */
  teacherLogits(batch: unknown[]): Tensor {
    if (!this.adapter.rowPerExample || !batch.every((f) => typeof f === 'object' && f !== null))
      return this.withTeacher((teacher) => this.adapter.forward(teacher, batch).logits);
    const keys = batch as object[];
    const missing = keys.filter((f) => !this.softLabels.has(f));
    if (missing.length) {
      const rows = this.withTeacher((teacher) =>
        tidy(() => {
          const logits = this.adapter.forward(teacher, missing).logits;
          return { values: logits.toFloat32Array(), width: logits.size(1) };
        }),
      );
      missing.forEach((f, i) =>
        this.softLabels.set(f, rows.values.slice(i * rows.width, (i + 1) * rows.width)),
      );
    }
    const width = this.softLabels.get(keys[0])!.length;
    const all = new Float32Array(keys.length * width);
    keys.forEach((f, i) => all.set(this.softLabels.get(f)!, i * width));
    return fromTyped(all, [keys.length, width], 'float32');
  }

  parts(batch: unknown[]): PredictionLossParts {
    const { temperature, soft_weight: softWeight, hard_weight: hardWeight } = this.settings;
    const t = this.teacherLogits(batch);
    const s = this.adapter.forward(this.student, batch);
    const soft = softLabelLoss(s.logits, t, {
      temperature,
      multiLabel: this.adapter.multiLabel,
      rowMask: s.rowMask,
    });
    const hard = this.adapter.hardLoss(this.student, s, batch);
    return { soft, hard, total: soft.mul(softWeight).add(hard.mul(hardWeight)) };
  }

  loss(batch: unknown[]): Tensor {
    return this.parts(batch).total;
  }
}

/**
 * The mean objective loss over a split (eval mode, no autograd): the dev metric of the stages whose
 * student has no labels to be scored on.
 */
export function meanObjectiveLoss(
  objective: TaskModel<unknown>,
  features: unknown[],
  batchSize: number,
): number {
  let sum = 0;
  inferenceBatches(
    objective,
    features,
    batchSize,
    (batch) => objective.loss(batch).item(),
    (value, batch) => (sum += value * batch.length),
  );
  return sum / Math.max(1, features.length);
}
