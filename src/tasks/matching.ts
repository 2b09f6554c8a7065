/**
 * Text matching / similarity. Two kinds of network:
 *   siamese (bow, cnn, gru, lstm): each text is encoded alone into a vector u, v; the head is either the
 *     cosine of u and v, or an MLP over [u, v, |u−v|, u·v]. The vectors are also what `alembic embed`
 *     writes and `alembic cluster` compares.
 *   cross-encoder (transformer): `[CLS] a [SEP] b [SEP]` with segment ids, a linear score on [CLS].
 * Three kinds of training data, told apart by the training file:
 *   binary    pointwise `a<TAB>b<TAB>0|1`: binary cross-entropy on the logit (MSE on the cosine);
 *   score     pointwise graded relevance: the label scaled to [0, 1] by the training range, then as above
 *             with soft targets;
 *   pairwise  `query<TAB>positive<TAB>negative`: margin ranking loss, positive above negative.
 * Evaluation fits the evaluation file: accuracy and AUC for 0/1 labels, Pearson/Spearman for scores,
 * pairwise accuracy for triples, and MRR / NDCG@k whenever a query (text_a) has several candidates.
 */
import { cat, fromTyped, ones } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Linear } from '../engine/nn/linear.js';
import { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import {
  detectMatchingFormat,
  pairwiseTable,
  pointwiseTable,
  readMatchingFile,
  readPointwiseFile,
} from '../data/readers/matching.js';
import type { TableSpec } from '../data/readers/read-table.js';
import type { PairwiseExample, PointwiseExample } from '../data/readers/types.js';
import { binaryAuc, pearson, rankingReport, spearman, type RankedItem } from '../metrics/index.js';
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

export type MatchingExample = PointwiseExample | PairwiseExample;
/** How two texts become one score: cosine or MLP over siamese vectors, or the Transformer cross-encoder. */
export type MatchingHead = 'cosine' | 'mlp' | 'cross';
/** What the training data taught: 0/1 labels, graded scores, or preferences between two candidates. */
export type MatchingMode = 'binary' | 'score' | 'pairwise';

/** The model's input for one pair: two texts (siamese) or one concatenated pair in `a` (cross-encoder). */
export interface PairInput {
  a: EncodedText;
  b?: EncodedText;
}

export interface MatchingFeatures {
  /** Pointwise: (text_a, text_b). Pairwise: (query, positive). */
  pair: PairInput;
  /** Pairwise: (query, negative). */
  negative?: PairInput;
  /** Pointwise: the label scaled to [0, 1]. */
  target?: number;
}

export interface MatchingPrediction {
  /** Similarity: a probability or cosine for 0/1 and pairwise data, a score on the label scale for scores. */
  score: number;
}

export interface MatchingState {
  head: MatchingHead;
  mode: MatchingMode;
  /** The training labels' range (score mode maps it to [0, 1] and back). */
  scoreRange: { min: number; max: number };
}

/** Ranking cut-offs reported as ndcg@k. */
const NDCG_AT = [1, 3, 5, 10];
/** Margins of the ranking loss: logits are unbounded, cosines live in [−1, 1]. */
const LOGIT_MARGIN = 1;
const COSINE_MARGIN = 0.3;

export class MatchingTask implements Task<MatchingExample, MatchingFeatures, MatchingPrediction> {
  readonly name = 'text_matching';
  codec!: TextCodec;
  head!: MatchingHead;
  mode!: MatchingMode;
  scoreRange = { min: 0, max: 1 };

  constructor(
    readonly config: TrainConfig,
    saved?: { dir: string; state: MatchingState },
  ) {
    if (this.isTransformer && config.model.matching_head === 'cosine') {
      throw new UserError(
        'model.matching_head: "cosine" needs a siamese net (bow, cnn, gru, lstm); ' +
          'the transformer is a cross-encoder that reads both texts together',
      );
    }
    if (saved) this.restore(saved);
  }

  /** Takes the fitted state `save` and `state` wrote, instead of fitting. */
  private restore(saved: { dir: string; state: MatchingState }): void {
    this.codec = TextCodec.load(this.codecSpec(), saved.dir);
    this.head = saved.state.head;
    this.mode = saved.state.mode;
    this.scoreRange = saved.state.scoreRange;
  }

  /** Ranking data is judged by MRR, scores by rank correlation, 0/1 pairs by accuracy. */
  get defaultMetric(): string {
    if (this.mode === 'pairwise') return 'mrr';
    return this.mode === 'score' ? 'spearman' : 'accuracy';
  }

  get isTransformer(): boolean {
    return this.config.model.net === 'transformer';
  }

  /** Siamese models encode one text into one vector (what embed and cluster use). */
  get isSiamese(): boolean {
    return !this.isTransformer;
  }

  private codecSpec() {
    const d = this.config.dataset;
    return { tokenizer: d.tokenizer, maxLen: d.max_len, specials: this.isTransformer };
  }

  async read(
    file: string,
    { labelled, skipBadLines }: { labelled: boolean; skipBadLines?: boolean },
  ): Promise<MatchingExample[]> {
    const options = readerOptions(this.config, skipBadLines);
    const { examples, skipped } = labelled
      ? await readMatchingFile(file, options)
      : await readPointwiseFile(file, { ...options, labelled: false });
    warnSkipped(file, skipped);
    return examples;
  }

  fit(train: MatchingExample[], vocabSource?: MatchingExample[]): void {
    fitExamples(this.fitter(vocabSource !== undefined), train, vocabSource);
  }

  /**
   * Vocabulary, the kind of training data (pairwise when the file is; binary when every label is 0 or 1;
   * else scores) and the score range, one example at a time (`fit` and a streamed pass both use it).
   */
  private fitter(vocabFromOtherFile: boolean): StreamingFitter<MatchingExample> {
    const codec = TextCodec.fitter(this.codecSpec(), vocabFitOptions(this.config));
    const addTexts = (e: MatchingExample) => {
      for (const text of isPairwise(e) ? [e.query, e.positive, e.negative] : [e.textA, e.textB])
        codec.add(text);
    };
    let pairwise: boolean | undefined;
    let binary = true;
    const range = { min: Infinity, max: -Infinity };
    return {
      vocab: addTexts,
      add: (e) => {
        if (!vocabFromOtherFile) addTexts(e);
        pairwise ??= isPairwise(e);
        if (isPairwise(e)) return;
        const score = e.score!;
        binary &&= score === 0 || score === 1;
        range.min = Math.min(range.min, score);
        range.max = Math.max(range.max, score);
      },
      finish: () => {
        this.codec = codec.finish();
        this.mode = pairwise ? 'pairwise' : binary ? 'binary' : 'score';
        if (this.mode === 'score') {
          this.scoreRange = range;
          if (range.min === range.max) {
            throw new UserError(`text_matching: every training label is ${range.min}: nothing to learn`);
          }
        }
        this.head = this.isTransformer
          ? 'cross'
          : (this.config.model.matching_head ?? (this.mode === 'binary' ? 'mlp' : 'cosine'));
      },
    };
  }

  /** A labelled file is pointwise or pairwise, as its first line says (detectMatchingFormat). */
  streaming(): StreamingSupport<MatchingExample> {
    return tableStreaming<MatchingExample>(this.config, {
      spec: async (file): Promise<TableSpec<MatchingExample>> =>
        (await detectMatchingFormat(file, readerOptions(this.config, undefined))) === 'pairwise'
          ? pairwiseTable()
          : pointwiseTable(true),
      fitter: (vocabFromOtherFile) => this.fitter(vocabFromOtherFile),
      restore: (saved) => this.restore(saved as { dir: string; state: MatchingState }),
    });
  }

  /** The model input for a pair of texts. */
  pairInput(a: string, b: string): PairInput {
    return this.isTransformer
      ? { a: this.codec.encodePair(a, b) }
      : { a: this.codec.encode(a), b: this.codec.encode(b) };
  }

  encode(e: MatchingExample): MatchingFeatures {
    if (isPairwise(e)) {
      return { pair: this.pairInput(e.query, e.positive), negative: this.pairInput(e.query, e.negative) };
    }
    const f: MatchingFeatures = { pair: this.pairInput(e.textA, e.textB) };
    if (e.score !== undefined) f.target = this.scaled(e.score);
    return f;
  }

  /** A label on the training scale → [0, 1] (0/1 labels stay as they are). */
  private scaled(score: number): number {
    const { min, max } = this.scoreRange;
    return Math.min(1, Math.max(0, (score - min) / (max - min)));
  }

  buildModel(): MatchingModel {
    const encoder = buildEncoder(
      this.config.model,
      this.codec.vocab.size,
      this.codec.vocab.padId,
      wordDropoutIds(this.codec.vocab, this.config.dataset.tokenizer.type),
    );
    if (this.config.model.pretrained_dir && encoder instanceof TransformerEncoder) {
      loadPretrained(encoder, this.config.model.pretrained_dir, { tokenizer: this.config.dataset.tokenizer });
    }
    return new MatchingModel(encoder, {
      head: this.head,
      mode: this.mode,
      hiddenSize: this.config.model.hidden_size,
      dropout: this.config.model.dropout,
      padId: this.codec.vocab.padId,
    });
  }

  /** Raw scores (logits, or cosines) of pairs, in batches without autograd. */
  rawScores(model: TaskModel<MatchingFeatures>, pairs: PairInput[], batchSize = 64): number[] {
    const m = model as MatchingModel;
    const out: number[] = [];
    inferenceBatches(
      m,
      pairs,
      batchSize,
      (batch) => m.rawScores(batch).toArray(),
      (scores) => out.push(...scores),
    );
    return out;
  }

  /** A raw score → the reported similarity (see MatchingPrediction). */
  similarity(raw: number): number {
    const base = this.head === 'cosine' ? raw : sigmoid(raw);
    if (this.mode !== 'score') return base;
    const { min, max } = this.scoreRange;
    return min + base * (max - min);
  }

  /** One vector per text from a siamese model's encoder (the space its cosine head compares in). */
  embed(model: TaskModel<MatchingFeatures>, texts: string[], batchSize = 64): number[][] {
    if (!this.isSiamese) {
      throw new UserError(
        'embed: this is a transformer cross-encoder, which scores pairs and has no vector per text; ' +
          'train text_matching with a siamese net (bow, cnn, gru, lstm) to get embeddings',
      );
    }
    const m = model as MatchingModel;
    const encoded = texts.map((t) => this.codec.encode(t));
    const out: number[][] = [];
    inferenceBatches(
      m,
      encoded,
      batchSize,
      (batch) => m.embed(batch).toArray(),
      (flat, batch) => {
        const size = flat.length / batch.length;
        for (let r = 0; r < batch.length; r++) out.push(flat.slice(r * size, (r + 1) * size));
      },
    );
    return out;
  }

  predict(model: TaskModel<MatchingFeatures>, features: MatchingFeatures[]): MatchingPrediction[] {
    return this.rawScores(
      model,
      features.map((f) => f.pair),
    ).map((raw) => ({ score: this.similarity(raw) }));
  }

  evaluate(
    model: TaskModel<MatchingFeatures>,
    examples: MatchingExample[],
    features: MatchingFeatures[],
    batchSize: number,
  ): EvalResult {
    return this.scoreOutputs(examples, features, this.evalOutputs(model, features, batchSize));
  }

  /** Each pair's raw score; for query/positive/negative triples, the positive's and the negative's. */
  evalOutputs(
    model: TaskModel<MatchingFeatures>,
    features: MatchingFeatures[],
    batchSize: number,
  ): EvalOutputs {
    const pos = this.rawScores(
      model,
      features.map((f) => f.pair),
      batchSize,
    );
    if (features[0]?.negative === undefined) return { rows: pos.map((p) => [p]), sums: [] };
    const neg = this.rawScores(
      model,
      features.map((f) => f.negative!),
      batchSize,
    );
    return { rows: pos.map((p, i) => [p, neg[i]!]), sums: [] };
  }

  scoreOutputs(examples: MatchingExample[], features: MatchingFeatures[], outputs: EvalOutputs): EvalResult {
    if (examples.length === 0) return { metrics: {} };
    if (isPairwise(examples[0]))
      return this.scorePairwise(
        examples as PairwiseExample[],
        outputs.rows.map((r) => r[0]!),
        outputs.rows.map((r) => r[1]!),
      );
    return this.scorePointwise(
      examples as PointwiseExample[],
      features,
      outputs.rows.map((r) => r[0]!),
    );
  }

  private scorePointwise(
    examples: PointwiseExample[],
    features: MatchingFeatures[],
    raw: number[],
  ): EvalResult {
    const gold = examples.map((e) => e.score!);
    const sims = raw.map((r) => this.similarity(r));
    const metrics: Record<string, number> = {};
    if (gold.every((g) => g === 0 || g === 1)) {
      // The decision point is 0.5 of the head's own scale: probability for logits, cosine for cosines.
      const base = raw.map((r) => (this.head === 'cosine' ? r : sigmoid(r)));
      metrics.accuracy = base.filter((b, i) => (b >= 0.5 ? 1 : 0) === gold[i]).length / gold.length;
      const auc = binaryAuc(gold, sims);
      if (Number.isFinite(auc)) metrics.auc = auc;
    } else {
      metrics.pearson = pearson(gold, sims);
      metrics.spearman = spearman(gold, sims);
    }
    if (this.mode !== 'pairwise') metrics.loss = meanPointwiseLoss(this.head, raw, features);
    const groups = new Map<string, RankedItem[]>();
    examples.forEach((e, i) => pushTo(groups, e.textA, { score: sims[i], relevance: gold[i] }));
    Object.assign(metrics, rankingMetrics([...groups.values()]));
    return { metrics };
  }

  private scorePairwise(examples: PairwiseExample[], pos: number[], neg: number[]): EvalResult {
    const margin = this.head === 'cosine' ? COSINE_MARGIN : LOGIT_MARGIN;
    let correct = 0;
    let loss = 0;
    pos.forEach((p, i) => {
      correct += p > neg[i] ? 1 : p === neg[i] ? 0.5 : 0;
      loss += Math.max(0, margin - (p - neg[i]));
    });
    // Each query's distinct candidates, relevant if they were ever the positive.
    const byQuery = new Map<string, Map<string, RankedItem>>();
    const add = (query: string, text: string, score: number, relevance: number) => {
      if (!byQuery.has(query)) byQuery.set(query, new Map());
      const candidates = byQuery.get(query)!;
      const old = candidates.get(text);
      candidates.set(text, { score, relevance: Math.max(relevance, old?.relevance ?? 0) });
    };
    examples.forEach((e, i) => {
      add(e.query, e.positive, pos[i], 1);
      add(e.query, e.negative, neg[i], 0);
    });
    return {
      metrics: {
        pair_accuracy: correct / examples.length,
        loss: loss / examples.length,
        ...rankingMetrics([...byQuery.values()].map((c) => [...c.values()])),
      },
    };
  }

  predictionColumns(first: MatchingExample): string[] {
    return isPairwise(first) ? ['query', 'candidate', 'score'] : ['text_a', 'text_b', 'score'];
  }

  formatPrediction(e: MatchingExample, p: MatchingPrediction): string {
    const pair = isPairwise(e) ? `${e.query}\t${e.positive}` : `${e.textA}\t${e.textB}`;
    return `${pair}\t${p.score.toFixed(6)}`;
  }

  state(): MatchingState {
    return { head: this.head, mode: this.mode, scoreRange: this.scoreRange };
  }

  save(dir: string): void {
    this.codec.save(dir);
  }
}

export function isPairwise(e: MatchingExample): e is PairwiseExample {
  return (e as PairwiseExample).query !== undefined;
}

/** MRR and NDCG@k over queries that have several candidates and at least one relevant one. */
function rankingMetrics(groups: RankedItem[][]): Record<string, number> {
  const ranked = groups.filter(
    (g) => g.length >= 2 && g.some((it) => it.relevance > 0) && g.every((it) => it.relevance >= 0),
  );
  if (ranked.length === 0) return {};
  const r = rankingReport(ranked, NDCG_AT);
  const out: Record<string, number> = { mrr: r.mrr };
  for (const k of NDCG_AT) out[`ndcg@${k}`] = r.ndcg[k];
  return out;
}

/** The training loss of pointwise data, recomputed from raw scores (for early stopping on `loss`). */
function meanPointwiseLoss(head: MatchingHead, raw: number[], features: MatchingFeatures[]): number {
  let total = 0;
  raw.forEach((r, i) => {
    const t = features[i].target ?? 0;
    if (head === 'cosine') total += (r - t) ** 2;
    else total += Math.max(r, 0) - r * t + Math.log1p(Math.exp(-Math.abs(r))); // stable BCE with logits
  });
  return total / Math.max(1, raw.length);
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Row-wise cosine of [B, D] tensors; the epsilon keeps the gradient finite at an all-zero vector. */
export function rowCosine(u: Tensor, v: Tensor): Tensor {
  const norm = (x: Tensor) => x.pow(2).sum(1).add(1e-8).sqrt();
  return u
    .mul(v)
    .sum(1)
    .div(norm(u).mul(norm(v)));
}

export interface MatchingModelOptions {
  head: MatchingHead;
  mode: MatchingMode;
  /** Width of the MLP head's hidden layer. */
  hiddenSize: number;
  dropout: number;
  padId: number;
}

/**
 * Encoder + matching head. Parameter names: `encoder.*`; the MLP head `mlp.weight|bias` and
 * `scorer.weight|bias`; the cross-encoder `scorer.weight|bias` on the pooled [CLS] vector.
 */
export class MatchingModel extends Module implements TaskModel<MatchingFeatures> {
  readonly encoder: TextEncoder;
  readonly mlp?: Linear;
  readonly scorer?: Linear;

  constructor(
    encoder: TextEncoder,
    readonly opts: MatchingModelOptions,
  ) {
    super();
    this.encoder = this.child('encoder', encoder);
    if (opts.head === 'mlp') {
      this.mlp = this.child('mlp', new Linear(4 * encoder.pooledSize, opts.hiddenSize));
      this.scorer = this.child('scorer', new Linear(opts.hiddenSize, 1));
    } else if (opts.head === 'cross') {
      this.scorer = this.child('scorer', new Linear(encoder.pooledSize, 1));
    }
  }

  /** Pooled vectors [B, D] of single texts. */
  embed(texts: EncodedText[]): Tensor {
    return this.encoder.encode(padTexts(texts, this.opts.padId)).pooled;
  }

  /** One score per pair [B]: a logit (mlp, cross) or a cosine. */
  rawScores(pairs: PairInput[]): Tensor {
    const drop = (x: Tensor) => F.dropout(x, this.opts.dropout, this.training);
    const u = this.embed(pairs.map((p) => p.a));
    if (this.opts.head === 'cross') return this.scorer!.forward(drop(u)).squeeze(1);
    const v = this.embed(pairs.map((p) => p.b ?? { ids: [] }));
    if (this.opts.head === 'cosine') return rowCosine(u, v);
    const features = cat([u, v, u.sub(v).abs(), u.mul(v)], 1);
    return this.scorer!.forward(drop(this.mlp!.forward(drop(features)).relu())).squeeze(1);
  }

  loss(batch: MatchingFeatures[]): Tensor {
    const n = batch.length;
    if (batch[0].negative) {
      const pos = this.rawScores(batch.map((f) => f.pair));
      const neg = this.rawScores(batch.map((f) => f.negative!));
      const margin = this.opts.head === 'cosine' ? COSINE_MARGIN : LOGIT_MARGIN;
      return F.marginRankingLoss(pos, neg, ones([n]), margin);
    }
    const raw = this.rawScores(batch.map((f) => f.pair));
    const target = fromTyped(
      Float32Array.from(batch, (f) => f.target ?? 0),
      [n],
      'float32',
    );
    return this.opts.head === 'cosine' ? F.mseLoss(raw, target) : F.binaryCrossEntropyWithLogits(raw, target);
  }
}
