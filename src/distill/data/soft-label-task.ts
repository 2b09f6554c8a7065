/**
 * Soft-label training for data distillation: the student learns the teacher's class probabilities, not
 * only its argmax. A training line may carry a last column with the teacher's probabilities
 * (`text<TAB>label<TAB>p0 p1 …`, in label-map order); lines without it (the gold data, part.0) are
 * trained with plain cross-entropy. For a line with probabilities q and student logits z:
 *
 *   loss = α · T² · KL(softmax(log q / T) ‖ softmax(z / T)) + (1 − α) · CE(z, teacher's label)
 *
 * (Hinton et al. 2015: T softens both distributions, T² keeps the gradient scale independent of T).
 * The model is the classification task's own (same parameter names, a subclass that changes only the
 * loss), so a student trained this way is an ordinary text-classification model directory.
 *
 * Registered with the task registry as a variant (on loading this module) for a training config with
 * `soft_labels` and no saved state; a model directory restores as a plain ClassificationTask.
 */
import { fromTyped } from '../../engine/create.js';
import * as F from '../../engine/functional.js';
import type { Tensor } from '../../engine/tensor.js';
import { FieldRecord } from '../../data/readers/field-record.js';
import { readTable, type TableSpec } from '../../data/readers/read-table.js';
import type { ClassificationExample } from '../../data/readers/types.js';
import type { Line } from '../../data/line-reader.js';
import {
  ClassificationTask,
  ClassifierModel,
  type ClassificationFeatures,
  type ClassifierOptions,
} from '../../tasks/classification.js';
import type { TextEncoder } from '../../nets/encoder.js';
import { readerOptions, warnSkipped } from '../../tasks/dataset-options.js';
import { registerTaskVariant } from '../../tasks/registry.js';
import type { StreamingFitter, TaskModel } from '../../tasks/task.js';
import type { TrainConfig } from '../../config/run-config.js';
import { softLabelKlRows, tempered, type SoftLabelOptions } from '../soft-label-loss.js';
import { InputError, UserError } from '../../util/errors.js';

/** The field (TSV: the optional last column) holding the teacher's probabilities. */
const PROBABILITIES = 'probabilities';

/** Data distillation's soft labels: KL against written probabilities, mixed with the hard label by alpha. */
type DataSoftLabels = SoftLabelOptions & { alpha: number; divergence: 'kl' };

export interface SoftExample extends ClassificationExample {
  /** The teacher's class probabilities, in label-map order. */
  soft?: number[];
}

export interface SoftFeatures extends ClassificationFeatures {
  soft?: number[];
}

/** Probabilities may be written rounded; they must still be a distribution, up to this much. */
const SUM_TOLERANCE = 1e-3;

export class SoftLabelClassificationTask extends ClassificationTask {
  readonly soft: DataSoftLabels;

  constructor(config: TrainConfig) {
    super(config);
    if (config.soft_labels === undefined) throw new Error('SoftLabelClassificationTask needs soft_labels');
    this.soft = { ...config.soft_labels, divergence: 'kl' };
    if (this.kind === 'multi_label') {
      throw new UserError(
        'soft_labels: only single-label tasks (text_classification, text_pair_classification)',
      );
    }
    if (config.dataset.numeric_features.length > 0) {
      throw new UserError('soft_labels: cannot be combined with dataset.numeric_features');
    }
  }

  /** Labelled files may hold the teacher's probabilities; unlabelled ones are read as usual. */
  override async read(
    file: string,
    opts: { labelled: boolean; skipBadLines?: boolean },
  ): Promise<SoftExample[]> {
    if (!opts.labelled) return super.read(file, opts);
    const { examples, skipped } = await readTable(
      file,
      readerOptions(this.config, opts.skipBadLines),
      this.labelledTable(file),
    );
    warnSkipped(file, skipped);
    return examples;
  }

  /** The classification table with the probabilities field (and, in TSV, the optional last column). */
  protected override labelledTable(file: string): TableSpec<SoftExample> {
    const plain = super.labelledTable(file);
    const textColumns = this.kind === 'pair' ? ['text_a', 'text_b'] : ['text'];
    return {
      ...plain,
      optional: [PROBABILITIES],
      parse: (record) => {
        const example: SoftExample = plain.parse(record);
        if (record.has(PROBABILITIES)) example.soft = parseProbabilities(record);
        return example;
      },
      tsv: () => ({ parse: (line) => parseSoftLine(file, line, textColumns) }),
    };
  }

  /**
   * The plain fit, and the probabilities' count checked against the labels (one per label) as the
   * examples come: a streamed file's bad line stops the run before training, as it does in memory.
   */
  protected override fitter(vocabFromOtherFile: boolean): StreamingFitter<SoftExample> {
    const plain = super.fitter(vocabFromOtherFile);
    let first: SoftExample | undefined;
    return {
      ...plain,
      add: (e) => {
        plain.add(e);
        if (e.soft === undefined) return;
        first ??= e;
        if (e.soft.length !== first.soft!.length) {
          throw new InputError(
            { file: e.id ?? this.currentFile, line: e.line, field: PROBABILITIES },
            `${e.soft.length} probabilities, where line ${first.line} has ${first.soft!.length} (one per label)`,
          );
        }
      },
      finish: () => {
        plain.finish();
        if (first !== undefined) this.checkCount(first, first.soft!);
      },
    };
  }

  private checkCount(e: SoftExample, soft: number[]): void {
    if (soft.length === this.labels.size) return;
    throw new InputError(
      { file: e.id ?? this.currentFile, line: e.line, field: PROBABILITIES },
      `${soft.length} probabilities for ${this.labels.size} labels (${this.labels.names.join(', ')}); ` +
        `give dataset.label_map the teacher's label_map.json`,
    );
  }

  override encode(e: SoftExample): SoftFeatures {
    const f: SoftFeatures = super.encode(e);
    if (e.soft !== undefined) {
      this.checkCount(e, e.soft);
      const sum = e.soft.reduce((s, p) => s + p, 0);
      f.soft = e.soft.map((p) => p / sum);
    }
    return f;
  }

  override buildModel(): SoftLabelClassifier {
    const plain = super.buildModel();
    // Same encoder and options; the plain model's own head is replaced by the subclass's.
    plain.classifier.dispose();
    return new SoftLabelClassifier(plain.encoder, plain.opts, this.soft);
  }
}

/** A TSV training line: the text column(s), the label, and optionally the probabilities. */
function parseSoftLine(file: string, line: Line, textColumns: string[]): SoftExample {
  const fields = line.text.split('\t');
  const min = textColumns.length + 1;
  if (fields.length !== min && fields.length !== min + 1) {
    const names = [...textColumns, 'label', `[${PROBABILITIES}]`].join(', ');
    throw new InputError(
      { file, line: line.number },
      `expected ${min} or ${min + 1} columns (${names}), found ${fields.length}`,
    );
  }
  const roles = [...(textColumns.length === 2 ? ['text', 'text_b'] : ['text']), 'label', PROBABILITIES];
  const values = new Map(fields.map((value, i) => [roles[i], { name: roles[i], value }]));
  const record = new FieldRecord(file, line.number, values);
  const example: SoftExample = { text: record.text('text'), line: line.number };
  if (textColumns.length === 2) example.textB = record.text('text_b');
  example.label = record.label('label');
  if (record.has(PROBABILITIES)) example.soft = parseProbabilities(record);
  return example;
}

/** One probability per label, in label-map order, each in [0, 1], summing to 1 (up to rounding). */
function parseProbabilities(record: FieldRecord): number[] {
  const probabilities = record.list(PROBABILITIES).map((part) => {
    const p = Number(part);
    if (part === '' || !Number.isFinite(p) || p < 0 || p > 1) {
      throw record.error(
        record.nameOf(PROBABILITIES),
        `${JSON.stringify(part)} is not a probability (space-separated numbers in [0, 1], one per label)`,
      );
    }
    return p;
  });
  const sum = probabilities.reduce((s, p) => s + p, 0);
  if (Math.abs(sum - 1) > SUM_TOLERANCE)
    throw record.error(record.nameOf(PROBABILITIES), `probabilities sum to ${sum}, not 1`);
  return probabilities;
}

/**
 * The classifier with a distillation loss: a ClassifierModel (same parameter names, same logits) whose
 * loss also takes the teacher's probabilities where a batch has them.
 */
export class SoftLabelClassifier extends ClassifierModel implements TaskModel<SoftFeatures> {
  constructor(
    encoder: TextEncoder,
    opts: ClassifierOptions,
    readonly soft: DataSoftLabels,
  ) {
    super(encoder, opts);
  }

  override loss(batch: SoftFeatures[]): Tensor {
    const logits = this.logits(batch);
    const n = batch.length;
    const k = this.opts.numLabels;
    const { temperature: t, alpha } = this.soft;
    const target = BigInt64Array.from(batch, (f) => BigInt(f.label ?? 0));
    const q = new Float32Array(n * k);
    const hardWeight = new Float32Array(n);
    const softWeight = new Float32Array(n);
    batch.forEach((f, i) => {
      if (f.soft === undefined) {
        hardWeight[i] = 1;
        return;
      }
      hardWeight[i] = 1 - alpha;
      softWeight[i] = alpha * t * t;
      tempered(f.soft, t).forEach((p, j) => (q[i * k + j] = p));
    });
    const ce = F.crossEntropy(logits, fromTyped(target, [n], 'int64'), { reduction: 'none' });
    let total = ce.mul(fromTyped(hardWeight, [n], 'float32'));
    if (softWeight.some((w) => w > 0)) {
      const kl = softLabelKlRows(logits, fromTyped(q, [n, k], 'float32'), t);
      total = total.add(kl.mul(fromTyped(softWeight, [n], 'float32')));
    }
    return total.sum().div(n);
  }
}

registerTaskVariant((config, saved) =>
  config.soft_labels !== undefined && saved === undefined
    ? new SoftLabelClassificationTask(config)
    : undefined,
);
