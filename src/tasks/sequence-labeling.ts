/**
 * Sequence labelling (NER, part-of-speech, word segmentation, any tag per token): encoder → per-token
 * states → dropout → linear tag scores → a CRF over the tag sequence (default) or an independent
 * softmax per token. Any net works: the RNNs, the Transformer, the CNN and the BOW all give per-token
 * `sequence` outputs.
 *
 * Input lines are `tok tok tok<TAB>tag tag tag` (src/data/readers/sequence.ts). Predict input is one text
 * per line, pre-segmented with spaces, or raw: a line without spaces is cut by the tokenizer (characters
 * for Chinese with the char tokenizer). Tag sets that spell chunks in the configured scheme (BIO or
 * BIOES) are scored at entity level (conlleval-compatible chunk P/R/F1, early stopping on micro F1);
 * other tag sets (POS tags, tone classes) by token accuracy.
 */
import path from 'node:path';
import { fromTyped } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Linear } from '../engine/nn/linear.js';
import { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import { CHAR_PAD_ID, padCharIds } from '../data/char-vocab.js';
import { LabelMap } from '../data/readers/label-map.js';
import { readSequenceFile, sequenceTable } from '../data/readers/sequence.js';
import type { SequenceExample } from '../data/readers/types.js';
import { chunkReport, classificationReport, extractChunks, type TagScheme } from '../metrics/index.js';
import { buildEncoder } from '../nets/build.js';
import { wordDropoutIds } from '../nets/word-dropout.js';
import { inferenceBatches } from '../nets/eval-mode.js';
import type { TextEncoder } from '../nets/encoder.js';
import { loadPretrained } from '../nets/pretrained.js';
import { TransformerEncoder } from '../nets/transformer.js';
import { padBatch } from '../nets/batching.js';
import type { TrainConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { CRF, type CrfConstraints } from './crf.js';
import { readerOptions, vocabFitOptions, warnSkipped } from './dataset-options.js';
import { isChunkTagSet, schemeConstraints } from './tag-scheme.js';
import type { EvalOutputs, EvalResult, StreamingFitter, StreamingSupport, Task, TaskModel } from './task.js';
import { fitExamples, tableStreaming } from './table-streaming.js';
import {
  IGNORE_INDEX,
  pieceTargets,
  textUnits,
  TokenAligner,
  type AlignerSpec,
  type SequenceRow,
} from './token-alignment.js';

/** A sentence to tag. Raw predict lines also keep the text and where each token came from. */
export interface SequenceInput extends SequenceExample {
  /** The file it was read from, for error messages. */
  file?: string;
  text?: string;
  spans?: Array<[number, number]>;
}

export interface SequenceFeatures {
  rows: SequenceRow[];
  /** The sentence's tokens (and raw text), to name the predicted entities. */
  source: Pick<SequenceInput, 'tokens' | 'text' | 'spans'>;
}

/** A chunk of the predicted tags; `start`/`end` are token indices (end exclusive). */
export interface Entity {
  type: string;
  start: number;
  end: number;
  text: string;
}

export interface SequencePrediction {
  tags: string[];
  /** Empty for tag sets without chunks. */
  entities: Entity[];
}

export interface SequenceLabelingState {
  tags: string[];
  scheme: TagScheme;
  /** Whether the tags spell chunks (entity-level metrics and entities in predictions). */
  chunked: boolean;
}

/** Confusion matrices of larger tag sets (Brown's 80 POS tags) are too big to read in the report. */
const MAX_CONFUSION_TAGS = 20;

export class SequenceLabelingTask implements Task<SequenceInput, SequenceFeatures, SequencePrediction> {
  readonly name = 'sequence_labeling';
  scheme: TagScheme;
  aligner!: TokenAligner;
  tags!: LabelMap;
  chunked = false;

  constructor(
    readonly config: TrainConfig,
    saved?: { dir: string; state: SequenceLabelingState },
  ) {
    this.scheme = config.dataset.tag_scheme;
    if (saved) this.restore(saved);
  }

  /** Takes the fitted state `save` and `state` wrote, instead of fitting. */
  private restore(saved: { dir: string; state: SequenceLabelingState }): void {
    this.aligner = TokenAligner.load(this.alignerSpec(), saved.dir);
    this.tags = new LabelMap(saved.state.tags);
    this.scheme = saved.state.scheme;
    this.chunked = saved.state.chunked;
  }

  /** Micro entity F1 for chunk tags, token accuracy otherwise (known once the tags are). */
  get defaultMetric(): string {
    return this.chunked ? 'f1' : 'accuracy';
  }

  private get isTransformer(): boolean {
    return this.config.model.net === 'transformer';
  }

  private alignerSpec(): AlignerSpec {
    const { dataset, model } = this.config;
    // A Transformer cannot read past its position table; longer sentences simply take more windows.
    const maxLen = this.isTransformer ? Math.min(dataset.max_len, model.max_positions) : dataset.max_len;
    const charWordLen = model.char_features?.max_word_len;
    return { tokenizer: dataset.tokenizer, maxLen, specials: this.isTransformer, charWordLen };
  }

  async read(
    file: string,
    { labelled, skipBadLines }: { labelled: boolean; skipBadLines?: boolean },
  ): Promise<SequenceInput[]> {
    const { examples, skipped } = await readSequenceFile(file, {
      labelled,
      ...readerOptions(this.config, skipBadLines),
    });
    warnSkipped(file, skipped);
    if (examples.length === 0) throw new UserError(`${file}: no examples`);
    return examples.map((e) => {
      // An unlabelled line without spaces is raw text: the tokenizer finds its units.
      if (labelled || e.tokens.length !== 1) return { ...e, file };
      const text = e.tokens[0];
      const units = textUnits(text, this.config.dataset.tokenizer);
      if (units.tokens.length === 0) return { ...e, file };
      return { ...e, file, tokens: units.tokens, text, spans: units.spans };
    });
  }

  fit(train: SequenceInput[], vocabSource?: SequenceInput[]): void {
    fitExamples(this.fitter(vocabSource !== undefined), train, vocabSource);
  }

  /**
   * Vocabulary and tags, one sentence at a time (`fit` and a streamed pass both use it); a tag missing
   * from a given label map is reported as its line comes.
   */
  private fitter(vocabFromOtherFile: boolean): StreamingFitter<SequenceInput> {
    const { dataset } = this.config;
    const aligner = TokenAligner.fitter(this.alignerSpec(), vocabFitOptions(this.config));
    const given = dataset.label_map ? LabelMap.load(dataset.label_map) : undefined;
    const seen = new Set<string>();
    return {
      vocab: (e) => aligner.add(e.tokens),
      add: (e) => {
        if (!vocabFromOtherFile) aligner.add(e.tokens);
        const where = { file: e.file ?? e.id ?? 'data', line: e.line, field: 'tags' };
        for (const tag of e.tags ?? []) {
          if (given) given.id(tag, where);
          else seen.add(tag);
        }
      },
      finish: () => {
        this.aligner = aligner.finish();
        this.tags = given ?? LabelMap.fromLabels(seen);
        this.chunked = isChunkTagSet(this.tags.names, this.scheme);
      },
    };
  }

  streaming(): StreamingSupport<SequenceInput> {
    return tableStreaming<SequenceInput>(this.config, {
      spec: () => sequenceTable(true),
      // As `read` does: the file is kept with each sentence, for the errors found when it is encoded.
      complete: (e, file) => ({ ...e, file }),
      fitter: (vocabFromOtherFile) => this.fitter(vocabFromOtherFile),
      restore: (saved) => this.restore(saved as { dir: string; state: SequenceLabelingState }),
    });
  }

  encode(e: SequenceInput): SequenceFeatures {
    const where = { file: e.file ?? e.id ?? 'data', line: e.line, field: 'tags' };
    const tagIds = e.tags?.map((t) => this.tags.id(t, where));
    return {
      rows: this.aligner.rows(e.tokens, tagIds),
      source: { tokens: e.tokens, text: e.text, spans: e.spans },
    };
  }

  buildModel(): SequenceLabelerModel {
    const { model } = this.config;
    const vocab = this.aligner.vocab;
    const encoder = buildEncoder(
      model,
      vocab.size,
      vocab.padId,
      wordDropoutIds(vocab, this.config.dataset.tokenizer.type),
      this.aligner.charVocab?.size,
    );
    if (model.pretrained_dir && encoder instanceof TransformerEncoder)
      loadPretrained(encoder, model.pretrained_dir, { tokenizer: this.config.dataset.tokenizer });
    return new SequenceLabelerModel(encoder, {
      numTags: this.tags.size,
      head: model.head,
      dropout: model.dropout,
      padId: vocab.padId,
      charWordLen: this.aligner.spec.charWordLen,
      constraints: this.chunked ? schemeConstraints(this.tags.names, this.scheme) : undefined,
    });
  }

  /** Tag ids per sentence, in batches without autograd; sentences are batched by length to save padding. */
  private decodeAll(
    model: TaskModel<SequenceFeatures>,
    features: SequenceFeatures[],
    batchSize: number,
    gold?: boolean,
  ): { tagIds: number[][]; lossSum: number; words: number } {
    const m = model as SequenceLabelerModel;
    const rows = features.flatMap((f, i) => f.rows.map((row) => ({ row, sentence: i })));
    const order = rows.map((_, i) => i).sort((a, b) => rows[a].row.ids.length - rows[b].row.ids.length);
    const rowTags: number[][] = new Array(rows.length);
    let lossSum = 0;
    let words = 0;
    inferenceBatches(
      m,
      order.map((r) => rows[r].row),
      batchSize,
      (batch) => {
        const scores = m.wordScores(batch);
        return { tags: m.decodeScores(scores, batch), nll: gold ? m.wordNll(scores, batch).item() : 0 };
      },
      (out, batch, idx) => {
        idx.forEach((i, k) => (rowTags[order[i]] = out.tags[k]));
        lossSum += out.nll;
        words += batch.reduce((s, r) => s + r.starts.length, 0);
      },
    );
    const tagIds: number[][] = features.map(() => []);
    rows.forEach(({ sentence }, r) => tagIds[sentence].push(...rowTags[r]));
    return { tagIds, lossSum, words };
  }

  predict(
    model: TaskModel<SequenceFeatures>,
    features: SequenceFeatures[],
    batchSize = 64,
  ): SequencePrediction[] {
    return this.decodeAll(model, features, batchSize).tagIds.map((ids, i) => {
      const tags = ids.map((id) => this.tags.name(id));
      return { tags, entities: this.entities(features[i].source, tags) };
    });
  }

  evaluate(
    model: TaskModel<SequenceFeatures>,
    examples: SequenceInput[],
    features: SequenceFeatures[],
    batchSize: number,
  ): EvalResult {
    return this.scoreOutputs(examples, features, this.evalOutputs(model, features, batchSize));
  }

  /** Each sentence's tag ids; the summed loss and the words it is over. */
  evalOutputs(
    model: TaskModel<SequenceFeatures>,
    features: SequenceFeatures[],
    batchSize: number,
  ): EvalOutputs {
    const { tagIds, lossSum, words } = this.decodeAll(model, features, batchSize, true);
    return { rows: tagIds, sums: [lossSum, words] };
  }

  scoreOutputs(examples: SequenceInput[], features: SequenceFeatures[], outputs: EvalOutputs): EvalResult {
    const tagIds = outputs.rows;
    const [lossSum, words] = outputs.sums;
    const loss = words ? lossSum / words : 0;
    const gold = examples.map((e) => e.tags ?? []);
    const pred = tagIds.map((ids) => ids.map((id) => this.tags.name(id)));
    if (this.chunked) {
      const r = chunkReport(gold, pred, this.scheme);
      const metrics: Record<string, number> = {
        f1: r.micro.f1,
        precision: r.micro.precision,
        recall: r.micro.recall,
        macro_f1: r.macro.f1,
        macro_precision: r.macro.precision,
        macro_recall: r.macro.recall,
        accuracy: r.tokenAccuracy,
        loss,
      };
      for (const t of r.perType) metrics[`f1_${t.type || 'chunk'}`] = t.f1;
      return {
        metrics,
        perLabel: r.perType.map((t) => ({
          label: t.type || 'chunk',
          precision: t.precision,
          recall: t.recall,
          f1: t.f1,
          support: t.support,
        })),
      };
    }
    const goldIds = features.flatMap((f) => f.rows.flatMap((row) => row.tags ?? []));
    const r = classificationReport(goldIds, tagIds.flat(), this.tags.size, this.tags.names);
    return {
      metrics: { accuracy: r.accuracy, macro_f1: r.macro.f1, loss },
      confusion:
        this.tags.size <= MAX_CONFUSION_TAGS
          ? { labels: [...this.tags.names], matrix: r.confusion }
          : undefined,
      perLabel: r.perClass
        .filter((c) => c.support > 0 || c.predicted > 0)
        .map((c) => ({
          label: c.label,
          precision: c.precision,
          recall: c.recall,
          f1: c.f1,
          support: c.support,
        })),
    };
  }

  /** The entities of a predicted tag sequence, with their text from the input. */
  entities(e: SequenceFeatures['source'], tags: readonly string[]): Entity[] {
    if (!this.chunked) return [];
    return extractChunks(tags, this.scheme).map((c) => ({
      type: c.type,
      start: c.start,
      end: c.end,
      text:
        e.text !== undefined && e.spans
          ? e.text.slice(e.spans[c.start][0], e.spans[c.end - 1][1])
          : joinTokens(e.tokens.slice(c.start, c.end)),
    }));
  }

  /** `tokens<TAB>tags`, plus `<TAB>[entities as JSON]` when the tags spell chunks. */
  predictionColumns(): string[] {
    return ['tokens', 'tags', ...(this.chunked ? ['entities'] : [])];
  }

  formatPrediction(e: SequenceInput, p: SequencePrediction): string {
    const base = `${e.tokens.join(' ')}\t${p.tags.join(' ')}`;
    if (!this.chunked) return base;
    return `${base}\t${JSON.stringify(p.entities)}`;
  }

  state(): SequenceLabelingState {
    return { tags: [...this.tags.names], scheme: this.scheme, chunked: this.chunked };
  }

  save(dir: string): void {
    this.aligner.save(dir);
    this.tags.save(path.join(dir, 'label_map.json'));
  }
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** Tokens back into text: no space between two CJK characters ("厦 门" → "厦门"), a space elsewhere. */
export function joinTokens(tokens: readonly string[]): string {
  let out = '';
  tokens.forEach((t, i) => {
    if (i > 0 && !(CJK.test(tokens[i - 1].slice(-2)) && CJK.test(t.slice(0, 2)))) out += ' ';
    out += t;
  });
  return out;
}

export interface SequenceLabelerOptions {
  numTags: number;
  head: 'softmax' | 'crf';
  dropout: number;
  padId: number;
  /** Characters per word when the encoder reads character features (rows then carry `chars`). */
  charWordLen?: number;
  /** Allowed tag moves for CRF decoding (chunk tag sets). */
  constraints?: CrfConstraints;
}

/** Word-level tag scores of a batch of rows: [R, W, K] and the word mask [R, W]. */
export interface WordScores {
  /** Piece-level scores [R, T, K] (for the softmax loss with ignored pieces). */
  pieces: Tensor;
  words: Tensor;
  mask: Tensor;
}

/** Encoder + linear tag scores + CRF or softmax. Parameters: `encoder.*`, `classifier.*`, `crf.*`. */
export class SequenceLabelerModel extends Module implements TaskModel<SequenceFeatures> {
  readonly encoder: TextEncoder;
  readonly classifier: Linear;
  readonly crf?: CRF;

  constructor(
    encoder: TextEncoder,
    readonly opts: SequenceLabelerOptions,
  ) {
    super();
    this.encoder = this.child('encoder', encoder);
    this.classifier = this.child('classifier', new Linear(encoder.sequenceSize, opts.numTags));
    if (opts.head === 'crf') this.crf = this.child('crf', new CRF(opts.numTags, opts.constraints));
  }

  /** Tag scores per piece, and gathered at each token's first piece. */
  wordScores(rows: readonly SequenceRow[]): WordScores {
    const input = padBatch(
      rows.map((r) => r.ids),
      this.opts.padId,
    );
    const width = this.opts.charWordLen;
    if (width) {
      const time = input.ids.size(1);
      const chars = padCharIds(
        rows.map((r) => r.chars ?? []),
        time,
        width,
        CHAR_PAD_ID,
      );
      input.charIds = fromTyped(chars, [rows.length, time, width], 'int64');
    }
    const sequence = this.encoder.encode(input).sequence;
    const pieces = this.classifier.forward(F.dropout(sequence, this.opts.dropout, this.training)); // [R, T, K]
    const maxWords = Math.max(1, ...rows.map((r) => r.starts.length));
    const index = new BigInt64Array(rows.length * maxWords);
    const mask = new Uint8Array(rows.length * maxWords);
    rows.forEach((r, i) =>
      r.starts.forEach((pos, w) => {
        index[i * maxWords + w] = BigInt(pos);
        mask[i * maxWords + w] = 1;
      }),
    );
    const idx = fromTyped(index, [rows.length, maxWords, 1], 'int64').expand(
      rows.length,
      maxWords,
      this.opts.numTags,
    );
    return {
      pieces,
      words: pieces.gather(1, idx),
      mask: fromTyped(mask, [rows.length, maxWords], 'bool'),
    };
  }

  /** Gold tag ids at word level [R, W], IGNORE_INDEX past each row's words. */
  private wordTargets(rows: readonly SequenceRow[], maxWords: number): Tensor {
    const t = new BigInt64Array(rows.length * maxWords).fill(BigInt(IGNORE_INDEX));
    rows.forEach((r, i) => (r.tags ?? []).forEach((tag, w) => (t[i * maxWords + w] = BigInt(tag))));
    return fromTyped(t, [rows.length, maxWords], 'int64');
  }

  /**
   * Summed negative log-likelihood of the gold tags: the CRF's sequence NLL, or the softmax's per-token
   * cross-entropy (the same thing for a model without transitions).
   */
  wordNll(scores: WordScores, rows: readonly SequenceRow[]): Tensor {
    const [r, w, k] = scores.words.shape;
    const targets = this.wordTargets(rows, w);
    if (this.crf) return this.crf.logLikelihood(scores.words, targets, scores.mask).sum().neg();
    return F.crossEntropy(scores.words.reshape(r * w, k), targets.reshape(r * w), {
      ignoreIndex: IGNORE_INDEX,
      reduction: 'sum',
    });
  }

  /**
   * Mean loss per token, for either head, so loss curves compare across heads and batches of sentences
   * of different lengths weigh by their tokens. The softmax reads piece-level targets: first pieces
   * hold the tag, the other pieces and [CLS]/[SEP] are ignored.
   */
  loss(batch: SequenceFeatures[]): Tensor {
    const rows = batch.flatMap((f) => f.rows);
    const scores = this.wordScores(rows);
    if (this.crf) {
      return this.wordNll(scores, rows).div(Math.max(1, this.lossUnits(batch)));
    }
    const [r, t, k] = scores.pieces.shape;
    const targets = new BigInt64Array(r * t);
    rows.forEach((row, i) => pieceTargets(row, t).forEach((v, p) => (targets[i * t + p] = BigInt(v))));
    return F.crossEntropy(scores.pieces.reshape(r * t, k), fromTyped(targets, [r * t], 'int64'), {
      ignoreIndex: IGNORE_INDEX,
    });
  }

  /** The loss is a mean over the tagged words (first pieces), for either head. */
  lossUnits(batch: SequenceFeatures[]): number {
    return batch.reduce((s, f) => s + f.rows.reduce((n, r) => n + (r.tags ? r.starts.length : 0), 0), 0);
  }

  /** Best tag ids per row: Viterbi with the CRF, per-token argmax with the softmax. */
  decodeScores(scores: WordScores, rows: readonly SequenceRow[]): number[][] {
    if (this.crf) {
      return this.crf.decode(scores.words, scores.mask, {
        start: rows.map((r) => r.first),
        end: rows.map((r) => r.last),
      });
    }
    const lengths = scores.mask.long().sum(1).toArray();
    const w = scores.words.size(1);
    const best = scores.words.argmax(2).toArray();
    return lengths.map((n, i) => best.slice(i * w, i * w + n));
  }
}
