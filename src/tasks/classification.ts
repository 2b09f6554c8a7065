/**
 * The text classification family: single text, text pair, multi-label, each optionally with extra
 * numeric features (CTR-like). One model: encoder → pooled vector (pairs: [u, v, |u−v|, u·v] for the
 * siamese nets, one concatenated input for the Transformer) ⊕ standardised numeric features → dropout
 * → linear head. Softmax + cross-entropy for one label, sigmoid + binary cross-entropy for several.
 */
import path from 'node:path';
import { cat, fromTyped } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Linear } from '../engine/nn/linear.js';
import { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import {
  classificationTable,
  readClassificationFile,
  type ClassificationKind,
  type ClassificationReadOptions,
} from '../data/readers/classification.js';
import type { TableSpec } from '../data/readers/read-table.js';
import { ngramSpecOf } from '../data/ngram-hash.js';
import { LabelMap } from '../data/readers/label-map.js';
import type { ClassificationExample } from '../data/readers/types.js';
import {
  binaryAuc,
  bestThreshold,
  classificationReport,
  multiLabelReport,
  thresholdProbabilities,
} from '../metrics/index.js';
import { buildEncoder } from '../nets/build.js';
import { wordDropoutIds } from '../nets/word-dropout.js';
import { inferenceBatches } from '../nets/eval-mode.js';
import type { TextEncoder } from '../nets/encoder.js';
import { loadPretrained } from '../nets/pretrained.js';
import { TransformerEncoder } from '../nets/transformer.js';
import type { TrainConfig } from '../config/run-config.js';
import { padTexts } from '../nets/batching.js';
import { UserError } from '../util/errors.js';
import { readerOptions, vocabFitOptions, warnSkipped } from './dataset-options.js';
import type { EvalOutputs, EvalResult, StreamingFitter, StreamingSupport, Task, TaskModel } from './task.js';
import { fitExamples, tableStreaming } from './table-streaming.js';
import { TextCodec, type EncodedText } from './text-codec.js';

export interface ClassificationFeatures {
  a: EncodedText;
  /** Second text of a pair, for siamese nets (the Transformer gets the pair inside `a`). */
  b?: EncodedText;
  /** Gold class id (single-label) or ids (multi-label); absent when unlabelled. */
  label?: number;
  labels?: number[];
  numeric?: number[];
}

export interface ClassificationPrediction {
  /** Predicted label names (one for single-label tasks). */
  labels: string[];
  probabilities: number[];
}

interface FeatureStats {
  names: string[];
  mean: number[];
  std: number[];
}

export interface ClassificationState {
  labels: string[];
  numeric: FeatureStats;
  threshold: number;
}

const KIND: Record<string, ClassificationKind> = {
  text_classification: 'single',
  text_pair_classification: 'pair',
  multi_label_classification: 'multi_label',
};

export class ClassificationTask implements Task<
  ClassificationExample,
  ClassificationFeatures,
  ClassificationPrediction
> {
  readonly name: string;
  readonly kind: ClassificationKind;
  readonly defaultMetric: string;
  codec!: TextCodec;
  labels!: LabelMap;
  numeric: FeatureStats;
  threshold: number;

  constructor(
    readonly config: TrainConfig,
    saved?: { dir: string; state: ClassificationState },
  ) {
    this.name = config.task;
    this.kind = KIND[config.task];
    if (!this.kind) throw new UserError(`task ${config.task} is not a classification task`);
    this.defaultMetric = this.kind === 'multi_label' ? 'micro_f1' : 'macro_f1';
    this.numeric = { names: config.dataset.numeric_features, mean: [], std: [] };
    this.threshold = typeof config.model.threshold === 'number' ? config.model.threshold : 0.5;
    if (saved) this.restore(saved);
  }

  /** Takes the fitted state `save` and `state` wrote, instead of fitting. */
  private restore(saved: { dir: string; state: ClassificationState }): void {
    this.codec = TextCodec.load(this.codecSpec(), saved.dir);
    this.labels = new LabelMap(saved.state.labels);
    this.numeric = saved.state.numeric;
    this.threshold = saved.state.threshold;
  }

  private get isTransformer(): boolean {
    return this.config.model.net === 'transformer';
  }

  private codecSpec() {
    const d = this.config.dataset;
    return {
      tokenizer: d.tokenizer,
      maxLen: d.max_len,
      specials: this.isTransformer,
      ngrams: ngramSpecOf(this.config.model),
    };
  }

  async read(file: string, { labelled, skipBadLines }: { labelled: boolean; skipBadLines?: boolean }) {
    this.currentFile = file;
    const { examples, skipped } = await readClassificationFile(file, {
      ...this.readOptions(),
      labelled,
      ...readerOptions(this.config, skipBadLines),
    });
    warnSkipped(file, skipped);
    if (examples.length === 0) throw new UserError(`${file}: no examples`);
    return examples;
  }

  fit(train: ClassificationExample[], vocabSource?: ClassificationExample[]): void {
    fitExamples(this.fitter(vocabSource !== undefined), train, vocabSource);
  }

  /**
   * Vocabulary, labels and numeric feature statistics, counted one example at a time (`fit` and a streamed
   * pass both use it, so the two agree to the bit).
   */
  protected fitter(vocabFromOtherFile: boolean): StreamingFitter<ClassificationExample> {
    const d = this.config.dataset;
    const codec = TextCodec.fitter(this.codecSpec(), vocabFitOptions(this.config));
    const addTexts = (e: ClassificationExample) => {
      codec.add(e.text);
      if (e.textB !== undefined) codec.add(e.textB);
    };
    // A given label map is checked as the examples come, so a label it lacks is reported before training.
    const given = d.label_map ? LabelMap.load(d.label_map) : undefined;
    const seen = new Set<string>();
    const stats = new FeatureStatsFitter(this.numeric.names);
    return {
      vocab: addTexts,
      add: (e) => {
        if (!vocabFromOtherFile) addTexts(e);
        for (const label of this.kind === 'multi_label' ? (e.labels ?? []) : [e.label!]) {
          if (given) this.labelId(label, e, given);
          else seen.add(label);
        }
        stats.add(e);
      },
      finish: () => {
        this.codec = codec.finish();
        this.labels = given ?? LabelMap.fromLabels(seen);
        this.numeric = stats.finish();
      },
    };
  }

  /** The reader's spec for labelled files (the file is noted, for label errors found while encoding). */
  protected labelledTable(file: string): TableSpec<ClassificationExample> {
    this.currentFile = file;
    return classificationTable(file, this.readOptions());
  }

  private readOptions(): ClassificationReadOptions {
    return { kind: this.kind, labelled: true, numericFeatures: this.numeric.names };
  }

  streaming(): StreamingSupport<ClassificationExample> {
    return tableStreaming<ClassificationExample>(this.config, {
      spec: (file) => this.labelledTable(file),
      fitter: (vocabFromOtherFile) => this.fitter(vocabFromOtherFile),
      restore: (saved) => this.restore(saved as { dir: string; state: ClassificationState }),
    });
  }

  encode(e: ClassificationExample): ClassificationFeatures {
    const f: ClassificationFeatures = { a: { ids: [] } };
    if (this.kind === 'pair') {
      if (this.isTransformer) f.a = this.codec.encodePair(e.text, e.textB ?? '');
      else {
        f.a = this.codec.encode(e.text);
        f.b = this.codec.encode(e.textB ?? '');
      }
    } else {
      f.a = this.codec.encode(e.text);
    }
    if (e.label !== undefined) f.label = this.labelId(e.label, e);
    if (e.labels !== undefined) f.labels = e.labels.map((l) => this.labelId(l, e));
    if (this.numeric.names.length) {
      f.numeric = this.numeric.names.map(
        (n, i) => ((e.features?.[n] ?? 0) - this.numeric.mean[i]) / this.numeric.std[i],
      );
    }
    return f;
  }

  private labelId(label: string, e: ClassificationExample, labels = this.labels): number {
    return labels.id(label, { file: e.id ?? this.currentFile, line: e.line });
  }

  /** The file being encoded, so a label missing from the map is reported with its file and line. */
  currentFile = 'data';

  buildModel(): ClassifierModel {
    const encoder = buildEncoder(
      this.config.model,
      this.codec.vocab.size,
      this.codec.vocab.padId,
      wordDropoutIds(this.codec.vocab, this.config.dataset.tokenizer.type),
    );
    if (this.config.model.pretrained_dir && encoder instanceof TransformerEncoder) {
      loadPretrained(encoder, this.config.model.pretrained_dir, { tokenizer: this.config.dataset.tokenizer });
    }
    return new ClassifierModel(encoder, {
      numLabels: this.labels.names.length,
      siamese: this.kind === 'pair' && !this.isTransformer,
      numericSize: this.numeric.names.length,
      multiLabel: this.kind === 'multi_label',
      dropout: this.config.model.dropout,
      padId: this.codec.vocab.padId,
    });
  }

  /** Class probabilities for each example (softmax, or per-label sigmoid), in batches without autograd. */
  probabilities(
    model: TaskModel<ClassificationFeatures>,
    features: ClassificationFeatures[],
    batchSize = 64,
  ): number[][] {
    const m = model as ClassifierModel;
    const out: number[][] = [];
    const k = this.labels.names.length;
    inferenceBatches(
      m,
      features,
      batchSize,
      (batch) => {
        const logits = m.logits(batch);
        return (this.kind === 'multi_label' ? logits.sigmoid() : logits.softmax(-1)).toArray();
      },
      (flat, batch) => {
        for (let r = 0; r < batch.length; r++) out.push(flat.slice(r * k, (r + 1) * k));
      },
    );
    return out;
  }

  predict(
    model: TaskModel<ClassificationFeatures>,
    features: ClassificationFeatures[],
  ): ClassificationPrediction[] {
    return this.probabilities(model, features).map((p) => ({ labels: this.decide(p), probabilities: p }));
  }

  private decide(p: number[]): string[] {
    if (this.kind !== 'multi_label') return [this.labels.names[argmax(p)]];
    return p.flatMap((v, i) => (v >= this.threshold ? [this.labels.names[i]] : []));
  }

  evaluate(
    model: TaskModel<ClassificationFeatures>,
    examples: ClassificationExample[],
    features: ClassificationFeatures[],
    batchSize: number,
  ): EvalResult {
    return this.scoreOutputs(examples, features, this.evalOutputs(model, features, batchSize));
  }

  /** Each example's class probabilities. */
  evalOutputs(
    model: TaskModel<ClassificationFeatures>,
    features: ClassificationFeatures[],
    batchSize: number,
  ): EvalOutputs {
    return { rows: this.probabilities(model, features, batchSize), sums: [] };
  }

  scoreOutputs(
    _examples: ClassificationExample[],
    features: ClassificationFeatures[],
    outputs: EvalOutputs,
  ): EvalResult {
    const probs = outputs.rows;
    const names = this.labels.names;
    if (this.kind === 'multi_label') {
      const gold = features.map((f) => f.labels ?? []);
      if (this.config.model.threshold === 'auto') this.threshold = bestThreshold(probs, gold).threshold;
      const r = multiLabelReport(gold, thresholdProbabilities(probs, this.threshold), names.length, names);
      return {
        metrics: {
          micro_f1: r.micro.f1,
          micro_precision: r.micro.precision,
          micro_recall: r.micro.recall,
          macro_f1: r.macro.f1,
          example_f1: r.example.f1,
          subset_accuracy: r.subsetAccuracy,
          hamming_loss: r.hammingLoss,
          loss: meanBce(probs, gold),
          threshold: this.threshold,
        },
        perLabel: r.perLabel.map((l) => ({
          label: l.label,
          precision: l.precision,
          recall: l.recall,
          f1: l.f1,
          support: l.support,
        })),
      };
    }
    const gold = features.map((f) => f.label!);
    const pred = probs.map(argmax);
    const r = classificationReport(gold, pred, names.length, names);
    const metrics: Record<string, number> = {
      accuracy: r.accuracy,
      macro_f1: r.macro.f1,
      macro_precision: r.macro.precision,
      macro_recall: r.macro.recall,
      micro_f1: r.micro.f1,
      weighted_f1: r.weighted.f1,
      loss: meanNll(probs, gold),
    };
    if (names.length === 2 && new Set(gold).size === 2)
      metrics.auc = binaryAuc(
        gold,
        probs.map((p) => p[1]),
      );
    return {
      metrics,
      confusion: { labels: [...names], matrix: r.confusion },
      perLabel: r.perClass.map((c) => ({
        label: c.label,
        precision: c.precision,
        recall: c.recall,
        f1: c.f1,
        support: c.support,
      })),
    };
  }

  /** The probabilities column holds one number per label, in this order. */
  predictionColumns(first: ClassificationExample): string[] {
    const texts = first.textB !== undefined ? ['text_a', 'text_b'] : ['text'];
    const label = this.kind === 'multi_label' ? 'labels' : 'label';
    return [...texts, label, `probabilities (${this.labels.names.join(' ')})`];
  }

  predictionRecord(e: ClassificationExample, p: ClassificationPrediction): Record<string, unknown> {
    const names = this.labels.names;
    return {
      text: e.text,
      ...(e.textB !== undefined ? { text_b: e.textB } : {}),
      [this.kind === 'multi_label' ? 'labels' : 'label']:
        this.kind === 'multi_label' ? p.labels : p.labels[0],
      probabilities: Object.fromEntries(p.probabilities.map((v, i) => [names[i], v])),
    };
  }

  formatPrediction(e: ClassificationExample, p: ClassificationPrediction): string {
    const text = e.textB !== undefined ? `${e.text}\t${e.textB}` : e.text;
    return `${text}\t${p.labels.join(' ')}\t${p.probabilities.map((v) => v.toFixed(6)).join(' ')}`;
  }

  state(): ClassificationState {
    return { labels: [...this.labels.names], numeric: this.numeric, threshold: this.threshold };
  }

  save(dir: string): void {
    this.codec.save(dir);
    this.labels.save(path.join(dir, 'label_map.json'));
  }
}

/**
 * The mean and spread of each numeric feature over the training examples, one example at a time (Welford's
 * update: stable, and the same to the bit whether the examples are in memory or streamed).
 */
class FeatureStatsFitter {
  private n = 0;
  private readonly mean: number[];
  private readonly m2: number[];

  constructor(private readonly names: string[]) {
    this.mean = names.map(() => 0);
    this.m2 = names.map(() => 0);
  }

  add(e: ClassificationExample): void {
    this.n++;
    this.names.forEach((name, i) => {
      const x = e.features?.[name] ?? 0;
      const delta = x - this.mean[i];
      this.mean[i] += delta / this.n;
      this.m2[i] += delta * (x - this.mean[i]);
    });
  }

  finish(): FeatureStats {
    // A constant feature keeps its value rather than dividing by zero.
    const std = this.m2.map((m2) => Math.sqrt(m2 / Math.max(1, this.n)) || 1);
    return { names: this.names, mean: [...this.mean], std };
  }
}

function argmax(p: number[]): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

function meanNll(probs: number[][], gold: number[]): number {
  return probs.reduce((s, p, i) => s - Math.log(Math.max(p[gold[i]], 1e-12)), 0) / Math.max(1, probs.length);
}

function meanBce(probs: number[][], gold: number[][]): number {
  let s = 0;
  let n = 0;
  probs.forEach((row, i) => {
    const g = new Set(gold[i]);
    row.forEach((p, j) => {
      s -= Math.log(Math.max(g.has(j) ? p : 1 - p, 1e-12));
      n++;
    });
  });
  return s / Math.max(1, n);
}

export interface ClassifierOptions {
  numLabels: number;
  siamese: boolean;
  numericSize: number;
  multiLabel: boolean;
  dropout: number;
  padId: number;
}

/** Encoder + linear head. Parameter names: `encoder.*`, `classifier.weight|bias`. */
export class ClassifierModel extends Module implements TaskModel<ClassificationFeatures> {
  readonly encoder: TextEncoder;
  readonly classifier: Linear;

  constructor(
    encoder: TextEncoder,
    readonly opts: ClassifierOptions,
  ) {
    super();
    this.encoder = this.child('encoder', encoder);
    const textSize = opts.siamese ? 4 * encoder.pooledSize : encoder.pooledSize;
    this.classifier = this.child('classifier', new Linear(textSize + opts.numericSize, opts.numLabels));
  }

  private pooled(texts: EncodedText[]): Tensor {
    return this.encoder.encode(padTexts(texts, this.opts.padId)).pooled;
  }

  logits(batch: ClassificationFeatures[]): Tensor {
    let x = this.pooled(batch.map((f) => f.a));
    if (this.opts.siamese) {
      const v = this.pooled(batch.map((f) => f.b ?? { ids: [] }));
      x = cat([x, v, x.sub(v).abs(), x.mul(v)], 1);
    }
    if (this.opts.numericSize) {
      const values = Float32Array.from(
        batch.flatMap((f) => f.numeric ?? new Array(this.opts.numericSize).fill(0)),
      );
      x = cat([x, fromTyped(values, [batch.length, this.opts.numericSize], 'float32')], 1);
    }
    return this.classifier.forward(F.dropout(x, this.opts.dropout, this.training));
  }

  loss(batch: ClassificationFeatures[]): Tensor {
    const logits = this.logits(batch);
    if (this.opts.multiLabel) {
      const k = this.opts.numLabels;
      const target = new Float32Array(batch.length * k);
      batch.forEach((f, i) => (f.labels ?? []).forEach((l) => (target[i * k + l] = 1)));
      return F.binaryCrossEntropyWithLogits(logits, fromTyped(target, [batch.length, k], 'float32'));
    }
    const target = BigInt64Array.from(batch, (f) => BigInt(f.label ?? 0));
    return F.crossEntropy(logits, fromTyped(target, [batch.length], 'int64'));
  }
}
