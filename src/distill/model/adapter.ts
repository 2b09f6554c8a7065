/**
 * What distillation needs to know about a task's model, and nothing more: the Transformer inside it, the
 * encoder input of a batch (the same for teacher and student, which share the vocabulary), its output
 * scores as rows [N, C] (one per text, or one per token) with the gold-label loss of the same forward
 * pass, and the features of a line of unlabelled text for GED. One adapter per task family.
 */
import type { Vocab } from '../../data/vocab.js';
import { fromTyped } from '../../engine/create.js';
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/tensor.js';
import type { EncoderInput } from '../../nets/encoder.js';
import { TransformerEncoder } from '../../nets/transformer.js';
import {
  ClassificationTask,
  ClassifierModel,
  type ClassificationFeatures,
} from '../../tasks/classification.js';
import type { AnyTask } from '../../tasks/registry.js';
import {
  SequenceLabelerModel,
  SequenceLabelingTask,
  type SequenceFeatures,
  type WordScores,
} from '../../tasks/sequence-labeling.js';
import type { TaskModel } from '../../tasks/task.js';
import { IGNORE_INDEX, pieceTargets, textUnits } from '../../tasks/token-alignment.js';
import { padBatch } from '../../nets/batching.js';
import { UserError } from '../../util/errors.js';

/** Output scores of one forward pass. */
export interface Outputs {
  /** [N, C]: one row per text (classification) or per token (sequence labelling). */
  logits: Tensor;
  /** float [N]: 1 where a row is real, 0 for padding (absent when every row is real). */
  rowMask?: Tensor;
  /** Task-specific scores the hard-label loss needs. */
  raw?: unknown;
}

export interface DistillAdapter<Fe = unknown> {
  /** Per-label sigmoids rather than a softmax per row. */
  readonly multiLabel: boolean;
  /** The vocabulary teacher and student share. */
  readonly vocab: Vocab;
  /** The model's Transformer (a UserError for any other net). */
  encoder(model: TaskModel<Fe>): TransformerEncoder;
  encoderInput(model: TaskModel<Fe>, batch: Fe[]): EncoderInput;
  forward(model: TaskModel<Fe>, batch: Fe[]): Outputs;
  /** The gold-label loss from `outputs` of the same model and batch (what model.loss computes). */
  hardLoss(model: TaskModel<Fe>, outputs: Outputs, batch: Fe[]): Tensor;
  /** The features of one line of unlabelled text (GED); undefined for a line with nothing to encode. */
  unlabelled(text: string): Fe | undefined;
  /** One output row per example (so an example's teacher outputs can be computed once and kept). */
  readonly rowPerExample: boolean;
}

export function distillAdapter(task: AnyTask): DistillAdapter {
  if (task instanceof ClassificationTask) return classificationAdapter(task) as DistillAdapter;
  if (task instanceof SequenceLabelingTask) return sequenceAdapter(task) as DistillAdapter;
  throw new UserError(`task ${task.name}: model distillation supports classification and sequence labelling`);
}

function transformerOf(model: { encoder: unknown }, what: string): TransformerEncoder {
  if (!(model.encoder instanceof TransformerEncoder))
    throw new UserError(`${what}: model distillation needs a Transformer encoder`);
  return model.encoder;
}

function classificationAdapter(task: ClassificationTask): DistillAdapter<ClassificationFeatures> {
  const asClassifier = (m: TaskModel<ClassificationFeatures>): ClassifierModel => {
    if (!(m instanceof ClassifierModel)) throw new Error('distillation: expected a classification model');
    return m;
  };
  return {
    multiLabel: task.kind === 'multi_label',
    vocab: task.codec.vocab,
    rowPerExample: true,
    encoder: (m) => transformerOf(asClassifier(m), task.name),
    encoderInput(m, batch) {
      const texts = batch.map((f) => f.a);
      const hasTypes = texts.some((t) => t.typeIds);
      return padBatch(
        texts.map((t) => t.ids),
        asClassifier(m).opts.padId,
        hasTypes ? texts.map((t) => t.typeIds ?? []) : undefined,
      );
    },
    forward: (m, batch) => ({ logits: asClassifier(m).logits(batch) }),
    hardLoss(m, { logits }, batch) {
      // The same losses as ClassifierModel.loss, from logits already computed.
      if (asClassifier(m).opts.multiLabel) {
        const k = logits.size(1);
        const target = new Float32Array(batch.length * k);
        batch.forEach((f, i) => (f.labels ?? []).forEach((l) => (target[i * k + l] = 1)));
        return F.binaryCrossEntropyWithLogits(logits, fromTyped(target, [batch.length, k], 'float32'));
      }
      const target = BigInt64Array.from(batch, (f) => BigInt(f.label ?? 0));
      return F.crossEntropy(logits, fromTyped(target, [batch.length], 'int64'));
    },
    unlabelled(text) {
      const trimmed = text.trim();
      return trimmed ? { a: task.codec.encode(trimmed) } : undefined;
    },
  };
}

function sequenceAdapter(task: SequenceLabelingTask): DistillAdapter<SequenceFeatures> {
  const asLabeler = (m: TaskModel<SequenceFeatures>): SequenceLabelerModel => {
    if (!(m instanceof SequenceLabelerModel))
      throw new Error('distillation: expected a sequence labelling model');
    return m;
  };
  const rowsOf = (batch: SequenceFeatures[]) => batch.flatMap((f) => f.rows);
  return {
    multiLabel: false,
    vocab: task.aligner.vocab,
    rowPerExample: false,
    encoder: (m) => transformerOf(asLabeler(m), task.name),
    encoderInput: (m, batch) =>
      padBatch(
        rowsOf(batch).map((r) => r.ids),
        asLabeler(m).opts.padId,
      ),
    forward(m, batch) {
      // Token-level soft labels: one row per token (its first piece), padding rows masked out. With a CRF
      // head these are its per-token emission scores; the transitions learn from the gold labels alone.
      const scores = asLabeler(m).wordScores(rowsOf(batch));
      const [r, w, k] = scores.words.shape;
      return {
        logits: scores.words.reshape(r * w, k),
        rowMask: scores.mask.float().reshape(r * w),
        raw: scores,
      };
    },
    hardLoss(m, outputs, batch) {
      // The same losses as SequenceLabelerModel.loss, from the scores already computed.
      const model = asLabeler(m);
      const rows = rowsOf(batch);
      const scores = outputs.raw as WordScores;
      if (model.crf) {
        const words = rows.reduce((s, r) => s + r.starts.length, 0);
        return model.wordNll(scores, rows).div(Math.max(1, words));
      }
      const [r, t, k] = scores.pieces.shape;
      const targets = new BigInt64Array(r * t);
      rows.forEach((row, i) => pieceTargets(row, t).forEach((v, p) => (targets[i * t + p] = BigInt(v))));
      return F.crossEntropy(scores.pieces.reshape(r * t, k), fromTyped(targets, [r * t], 'int64'), {
        ignoreIndex: IGNORE_INDEX,
      });
    },
    unlabelled(text) {
      const { tokens, spans } = textUnits(text, task.aligner.spec.tokenizer);
      if (tokens.length === 0) return undefined;
      return { rows: task.aligner.rows(tokens), source: { tokens, text, spans } };
    },
  };
}
