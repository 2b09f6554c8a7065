/**
 * Extractive reading comprehension (SQuAD / DuReader): the answer is a span of the context. Input per
 * window is `[CLS] question [SEP] context window [SEP]` (segment ids 0 / 1); a linear layer on every
 * token's state gives a start and an end score; the answer is the span with the best start + end score
 * of at most `model.max_answer_len` tokens over all windows of the context. Contexts longer than the
 * room `dataset.max_len` leaves are cut into overlapping windows (span-windows.ts). When the training
 * data has unanswerable questions, [CLS] (position 0) is trained as "no answer" and predicted when its
 * score beats every span's, as in BERT for SQuAD 2.0; otherwise the best span is always given.
 * Every window of a training question is trained on, a window without the answer pointing at [CLS].
 * Any net runs (its per-token states are used), but only one whose token states see the question can
 * answer it: the Transformer (attention), a GRU or LSTM (reading the question first). A bag of words'
 * state is the token alone and a CNN's three tokens, so init-config offers neither for this task.
 */
import { fromTyped } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Linear } from '../engine/nn/linear.js';
import { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import { readReadingComprehensionJson } from '../data/readers/reading-comprehension.js';
import type { ReadingComprehensionExample } from '../data/readers/types.js';
import { createTokenizer } from '../data/tokenizers/create-tokenizer.js';
import type { OffsetTokenizer } from '../data/tokenizers/tokenizer.js';
import { WordPieceTokenizer, wordPieceOptions } from '../data/tokenizers/wordpiece.js';
import { spanReport } from '../metrics/index.js';
import { buildEncoder } from '../nets/build.js';
import { wordDropoutIds } from '../nets/word-dropout.js';
import { inferenceBatches } from '../nets/eval-mode.js';
import type { TextEncoder } from '../nets/encoder.js';
import { loadPretrained } from '../nets/pretrained.js';
import { TransformerEncoder } from '../nets/transformer.js';
import type { TrainConfig } from '../config/run-config.js';
import { padBatch } from '../nets/batching.js';
import { InputError, UserError } from '../util/errors.js';
import { readerOptions, vocabFitOptions, warnSkipped } from './dataset-options.js';
import { bestSpan, charSpanToTokens, contextWindows, type TokenWindow } from './span-windows.js';
import type { EvalResult, Task, TaskModel } from './task.js';
import { TextCodec, type CodecSpec } from './text-codec.js';

/** One window of a question's context, encoded. */
export interface SpanWindow {
  ids: number[];
  typeIds: number[];
  /** Input position of the window's first context token (after `[CLS] question [SEP]`). */
  contextStart: number;
  /** The context tokens the window holds. */
  tokens: TokenWindow;
  /** Gold start/end input positions; 0 and 0 when the answer is not (wholly) in this window. */
  startLabel: number;
  endLabel: number;
}

export interface ReadingComprehensionFeatures {
  windows: SpanWindow[];
  /** Character offsets [start, end) of the context tokens, to turn a token span back into text. */
  offsets: Array<[number, number]>;
  context: string;
}

export interface ReadingComprehensionPrediction {
  /** The answer text, '' for "no answer". */
  answer: string;
  /** Its start in the context (a string index), −1 for "no answer". */
  start: number;
  /** start + end score of the chosen span (or of [CLS]). */
  score: number;
}

export interface ReadingComprehensionState {
  /** The training data had unanswerable questions, so the model may answer "no answer". */
  allowNoAnswer: boolean;
}

/** Start and end scores of one window, one per input position. */
export interface WindowLogits {
  start: ArrayLike<number>;
  end: ArrayLike<number>;
}

export class ReadingComprehensionTask implements Task<
  ReadingComprehensionExample,
  ReadingComprehensionFeatures,
  ReadingComprehensionPrediction
> {
  readonly name = 'reading_comprehension';
  readonly defaultMetric = 'f1';
  codec!: TextCodec;
  tokenizer!: OffsetTokenizer;
  allowNoAnswer = false;
  /** The file being encoded, so an answer that covers no token is reported with its file. */
  currentFile = 'data';

  constructor(
    readonly config: TrainConfig,
    saved?: { dir: string; state: ReadingComprehensionState },
  ) {
    const d = config.dataset;
    if (d.max_len - 3 - d.max_question_len < 1) {
      throw new UserError(
        `dataset.max_len ${d.max_len} leaves no room for the context after [CLS], a question of up to ` +
          `dataset.max_question_len ${d.max_question_len} tokens and two [SEP]; raise max_len or lower max_question_len`,
      );
    }
    if (saved) {
      this.useCodec(TextCodec.load(this.codecSpec(), saved.dir));
      this.allowNoAnswer = saved.state.allowNoAnswer;
    }
  }

  private codecSpec(): CodecSpec {
    const d = this.config.dataset;
    // [CLS] and [SEP] frame every window whatever the net: [CLS] is the "no answer" position.
    return { tokenizer: d.tokenizer, maxLen: d.max_len, specials: true };
  }

  private useCodec(codec: TextCodec): void {
    this.codec = codec;
    this.tokenizer = offsetTokenizer(codec);
  }

  async read(
    file: string,
    { labelled, skipBadLines }: { labelled: boolean; skipBadLines?: boolean },
  ): Promise<ReadingComprehensionExample[]> {
    this.currentFile = file;
    const { examples, skipped } = await readReadingComprehensionJson(file, {
      labelled,
      ...readerOptions(this.config, skipBadLines),
    });
    warnSkipped(file, skipped, 'question');
    return examples;
  }

  fit(train: ReadingComprehensionExample[], vocabSource = train): void {
    // A context shared by several questions counts once, as it occurs once in the text.
    const texts = [...new Set(vocabSource.map((e) => e.context)), ...vocabSource.map((e) => e.question)];
    this.useCodec(TextCodec.fit(this.codecSpec(), texts, vocabFitOptions(this.config)));
    this.allowNoAnswer = train.some((e) => e.isImpossible);
  }

  /** Why its training file is not streamed (dataset.streaming: true says this in one line). */
  streaming(): string {
    return 'reading_comprehension reads its training file into memory (a SQuAD or DuReader file is one JSON document, and a question becomes several context windows)';
  }

  encode(e: ReadingComprehensionExample): ReadingComprehensionFeatures {
    const d = this.config.dataset;
    const vocab = this.codec.vocab;
    let question = this.tokenizer.tokenizeWithOffsets(e.question).tokens.slice(0, d.max_question_len);
    if (question.length === 0) question = [vocab.token(vocab.unkId)];
    const context = this.tokenizer.tokenizeWithOffsets(e.context);
    const contextIds = context.tokens.map((t) => vocab.id(t));
    const gold = e.answers.length > 0 ? this.goldTokens(e, context.offsets) : undefined;
    const [cls, sep] = [vocab.clsId!, vocab.sepId!];
    const prefix = [cls, ...question.map((t) => vocab.id(t)), sep];
    const room = d.max_len - prefix.length - 1;
    const windows = contextWindows(
      contextIds.length,
      room,
      d.doc_stride,
      this.config.model.max_answer_len,
    ).map((w): SpanWindow => {
      const inside = gold !== undefined && gold[0] >= w.start && gold[1] < w.end;
      const toInput = (token: number) => prefix.length + token - w.start;
      return {
        ids: [...prefix, ...contextIds.slice(w.start, w.end), sep],
        typeIds: [...Array<number>(prefix.length).fill(0), ...Array<number>(w.end - w.start + 1).fill(1)],
        contextStart: prefix.length,
        tokens: w,
        startLabel: inside ? toInput(gold[0]) : 0,
        endLabel: inside ? toInput(gold[1]) : 0,
      };
    });
    return { windows, offsets: context.offsets, context: e.context };
  }

  /** The context tokens [first, last] of the first gold answer (the one trained on). */
  private goldTokens(e: ReadingComprehensionExample, offsets: Array<[number, number]>): [number, number] {
    const answer = e.answers[0];
    const span = charSpanToTokens(offsets, answer.start, answer.start + answer.text.length);
    if (!span) {
      throw new InputError(
        { file: this.currentFile, field: `qa ${JSON.stringify(e.id)}: answers[0]` },
        `${JSON.stringify(answer.text)} covers no token of the context`,
      );
    }
    return span;
  }

  buildModel(): SpanModel {
    const encoder = buildEncoder(
      this.config.model,
      this.codec.vocab.size,
      this.codec.vocab.padId,
      wordDropoutIds(this.codec.vocab, this.config.dataset.tokenizer.type),
    );
    if (this.config.model.pretrained_dir && encoder instanceof TransformerEncoder) {
      loadPretrained(encoder, this.config.model.pretrained_dir, { tokenizer: this.config.dataset.tokenizer });
    }
    return new SpanModel(encoder, this.codec.vocab.padId);
  }

  /** Start/end scores of every window of every question, in batches of windows without autograd. */
  windowLogits(
    model: TaskModel<ReadingComprehensionFeatures>,
    features: ReadingComprehensionFeatures[],
    batchSize = 64,
  ): WindowLogits[][] {
    const m = model as SpanModel;
    const windows = features.flatMap((f) => f.windows);
    const flat: WindowLogits[] = [];
    inferenceBatches(
      m,
      windows,
      batchSize,
      (batch) => {
        const { start: s, end: e } = m.logits(batch);
        return [s.toArray(), e.toArray()];
      },
      ([start, end], batch) => {
        const time = start.length / batch.length;
        batch.forEach((w, r) => {
          const row = (values: number[]) => values.slice(r * time, r * time + w.ids.length);
          flat.push({ start: row(start), end: row(end) });
        });
      },
    );
    const out: WindowLogits[][] = [];
    let next = 0;
    for (const f of features) {
      out.push(flat.slice(next, next + f.windows.length));
      next += f.windows.length;
    }
    return out;
  }

  predict(
    model: TaskModel<ReadingComprehensionFeatures>,
    features: ReadingComprehensionFeatures[],
    batchSize = 64,
  ): ReadingComprehensionPrediction[] {
    const logits = this.windowLogits(model, features, batchSize);
    return features.map((f, i) =>
      decodeAnswer(f, logits[i], {
        maxAnswerLen: this.config.model.max_answer_len,
        allowNoAnswer: this.allowNoAnswer,
      }),
    );
  }

  evaluate(
    model: TaskModel<ReadingComprehensionFeatures>,
    examples: ReadingComprehensionExample[],
    features: ReadingComprehensionFeatures[],
    batchSize: number,
  ): EvalResult {
    const predictions = this.predict(model, features, batchSize);
    const r = spanReport(
      predictions.map((p) => p.answer),
      examples.map((e) => e.answers.map((a) => a.text)),
    );
    const metrics: Record<string, number> = { exact_match: r.exactMatch, f1: r.f1 };
    if (r.hasAnswer.count > 0 && r.noAnswer.count > 0) {
      metrics.has_answer_exact_match = r.hasAnswer.exactMatch;
      metrics.has_answer_f1 = r.hasAnswer.f1;
      // An unanswerable question scores 1 exactly when the model abstains.
      metrics.no_answer_accuracy = r.noAnswer.exactMatch;
    }
    return { metrics };
  }

  formatPrediction(e: ReadingComprehensionExample, p: ReadingComprehensionPrediction): string {
    return `${e.id}\t${p.answer}`;
  }

  /** SQuAD's predictions file: `{"question id": "answer text", …}` ('' for no answer). */
  formatAll(examples: ReadingComprehensionExample[], predictions: ReadingComprehensionPrediction[]): string {
    return JSON.stringify(Object.fromEntries(examples.map((e, i) => [e.id, predictions[i].answer])), null, 2);
  }

  state(): ReadingComprehensionState {
    return { allowNoAnswer: this.allowNoAnswer };
  }

  save(dir: string): void {
    this.codec.save(dir);
  }
}

/** The codec's tokenizer, with offsets (wordpiece splits with the model's own vocabulary, as TextCodec does). */
function offsetTokenizer(codec: TextCodec): OffsetTokenizer {
  const spec = codec.spec.tokenizer;
  return spec.type === 'wordpiece'
    ? new WordPieceTokenizer(codec.vocab, wordPieceOptions(spec))
    : createTokenizer(spec);
}

/**
 * The answer of one question from its windows' scores: the best span over all windows (context
 * positions only, at most maxAnswerLen tokens), or "no answer" when allowed and the lowest [CLS] score of
 * the windows beats it (the window that sees the answer best decides, as in BERT for SQuAD 2.0).
 */
export function decodeAnswer(
  f: ReadingComprehensionFeatures,
  logits: readonly WindowLogits[],
  { maxAnswerLen, allowNoAnswer }: { maxAnswerLen: number; allowNoAnswer: boolean },
): ReadingComprehensionPrediction {
  let best: { first: number; last: number; score: number } | undefined;
  let nullScore = Infinity;
  f.windows.forEach((w, k) => {
    const { start, end } = logits[k];
    nullScore = Math.min(nullScore, start[0] + end[0]);
    const span = bestSpan(
      start,
      end,
      w.contextStart,
      w.contextStart + w.tokens.end - w.tokens.start,
      maxAnswerLen,
    );
    if (span && (best === undefined || span.score > best.score)) {
      const toToken = (position: number) => w.tokens.start + position - w.contextStart;
      best = { first: toToken(span.start), last: toToken(span.end), score: span.score };
    }
  });
  if (best === undefined || (allowNoAnswer && nullScore > best.score)) {
    return { answer: '', start: -1, score: nullScore };
  }
  const from = f.offsets[best.first][0];
  const to = f.offsets[best.last][1];
  return { answer: f.context.slice(from, to), start: from, score: best.score };
}

/** Encoder + start/end scores per token. Parameter names: `encoder.*`, `qa_outputs.weight|bias` (as HF BERT). */
export class SpanModel extends Module implements TaskModel<ReadingComprehensionFeatures> {
  readonly encoder: TextEncoder;
  readonly qaOutputs: Linear;

  constructor(
    encoder: TextEncoder,
    readonly padId: number,
  ) {
    super();
    this.encoder = this.child('encoder', encoder);
    this.qaOutputs = this.child('qa_outputs', new Linear(encoder.sequenceSize, 2));
  }

  /** Start and end scores [N, T]; padding positions get −10000 so they never win or take probability. */
  logits(windows: SpanWindow[]): { start: Tensor; end: Tensor } {
    const input = padBatch(
      windows.map((w) => w.ids),
      this.padId,
      windows.map((w) => w.typeIds),
    );
    const scores = this.qaOutputs.forward(this.encoder.encode(input).sequence); // [N, T, 2]
    const padding = input.mask.logicalNot();
    return {
      start: scores.select(2, 0).maskedFill(padding, -10000),
      end: scores.select(2, 1).maskedFill(padding, -10000),
    };
  }

  loss(batch: ReadingComprehensionFeatures[]): Tensor {
    const windows = batch.flatMap((f) => f.windows);
    const { start, end } = this.logits(windows);
    const target = (pick: (w: SpanWindow) => number) =>
      fromTyped(
        BigInt64Array.from(windows, (w) => BigInt(pick(w))),
        [windows.length],
        'int64',
      );
    return F.crossEntropy(
      start,
      target((w) => w.startLabel),
    )
      .add(
        F.crossEntropy(
          end,
          target((w) => w.endLabel),
        ),
      )
      .div(2);
  }
}
