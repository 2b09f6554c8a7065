/**
 * Text generation (task `text_generation`): translation, summarisation, title generation — any
 * `source<TAB>target` data. An encoder-decoder (seq2seq.ts) is trained with teacher forcing and label
 * smoothing: the decoder reads [BOS] y and predicts y [EOS] ([CLS] and [SEP] of the vocabulary serve
 * as BOS and EOS). Outputs are decoded by beam search (beam_size 1 is greedy) with a length penalty
 * and a length limit, all from the config's `generation` section.
 *
 * Evaluation reports corpus BLEU (sacreBLEU-compatible: '13a' tokens, or one token per Han character
 * when the references are Chinese), mean ROUGE-L F1, and the teacher-forced loss and perplexity.
 */
import path from 'node:path';
import { fromTyped, full } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Module } from '../engine/nn/module.js';
import { tidy } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import { generationTable, readGenerationFile } from '../data/readers/generation.js';
import type { GenerationExample } from '../data/readers/types.js';
import { Vocab } from '../data/vocab.js';
import { containsHan, corpusBleu, corpusRougeL, perplexity } from '../metrics/index.js';
import { beamSearch, type Hypothesis, type SearchRow, type TopTokens } from '../nets/decoder-search.js';
import { inferenceBatches } from '../nets/eval-mode.js';
import { loadPretrained } from '../nets/pretrained.js';
import { setUnigramBias, TargetTokenCounter } from '../nets/output-prior.js';
import { buildSeq2Seq, selectMemory, TransformerSeq2Seq, type Seq2SeqNet } from '../nets/seq2seq.js';
import { padBatch, padTexts } from '../nets/batching.js';
import { generationSchema, type TrainConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { readerOptions, vocabFitOptions, warnSkipped } from './dataset-options.js';
import type { EvalResult, StreamingFitter, StreamingSupport, Task, TaskModel } from './task.js';
import { fitExamples, tableStreaming } from './table-streaming.js';
import { TextCodec, type EncodedText } from './text-codec.js';

export type GenerationOptions = ReturnType<typeof generationSchema.parse>;

export interface GenerationFeatures {
  source: EncodedText;
  /** Target token ids without BOS/EOS; absent for prediction input. */
  target?: number[];
}

export interface GenerationPrediction {
  text: string;
  tokens: string[];
  /** Length-normalised log-probability the beam ranked it by. */
  score: number;
}

export interface GenerationState {
  /** True when the target side has its own vocabulary (target_vocab.txt). */
  separateTargetVocab: boolean;
}

const TARGET_VOCAB_FILE = 'target_vocab.txt';

/** The special ids decoding needs from the target vocabulary. */
export interface TargetIds {
  pad: number;
  bos: number;
  eos: number;
  /** Never generated: padding, BOS, [UNK], [MASK]. */
  banned: number[];
}

/**
 * Tokens back to text: Chinese-style tokens (char, jieba) are joined directly, except that two Latin
 * words or numbers next to each other get a space back; whitespace tokens are joined by spaces;
 * WordPiece continuations (`##ing`) are glued to the piece before.
 */
export function detokenize(tokens: readonly string[], kind: string): string {
  if (kind === 'whitespace') return tokens.join(' ');
  if (kind === 'wordpiece') return tokens.join(' ').replace(/ ##/g, '');
  let out = '';
  for (const t of tokens) {
    if (
      out &&
      /[\p{L}\p{N}]$/u.test(out) &&
      /^[\p{L}\p{N}]/u.test(t) &&
      !/\p{Script=Han}/u.test(out.at(-1)! + t[0])
    )
      out += ' ';
    out += t;
  }
  return out;
}

export class GenerationTask implements Task<GenerationExample, GenerationFeatures, GenerationPrediction> {
  readonly name = 'text_generation';
  readonly defaultMetric = 'bleu';
  readonly options: GenerationOptions;
  source!: TextCodec;
  target!: TextCodec;

  constructor(
    readonly config: TrainConfig,
    saved?: { dir: string; state: GenerationState },
  ) {
    this.options = generationSchema.parse(config.generation ?? {});
    if (saved) this.restore(saved);
  }

  /** Takes the fitted state `save` and `state` wrote, instead of fitting. */
  private restore(saved: { dir: string; state: GenerationState }): void {
    this.source = TextCodec.load(this.sourceSpec(), saved.dir);
    const targetVocab = saved.state.separateTargetVocab
      ? Vocab.load(path.join(saved.dir, TARGET_VOCAB_FILE))
      : this.source.vocab;
    this.target = new TextCodec(this.targetSpec(), targetVocab);
  }

  private sourceSpec() {
    const d = this.config.dataset;
    return { tokenizer: d.tokenizer, maxLen: d.max_len, specials: this.config.model.net === 'transformer' };
  }

  private targetSpec() {
    return { tokenizer: this.config.dataset.tokenizer, maxLen: this.options.max_length, specials: false };
  }

  async read(file: string, { labelled, skipBadLines }: { labelled: boolean; skipBadLines?: boolean }) {
    const { examples, skipped } = await readGenerationFile(file, {
      labelled,
      ...readerOptions(this.config, skipBadLines),
    });
    warnSkipped(file, skipped);
    return examples;
  }

  fit(train: GenerationExample[], vocabSource?: GenerationExample[]): void {
    fitExamples(this.fitter(vocabSource !== undefined), train, vocabSource);
  }

  /**
   * The source and target vocabularies (one shared, or one each) and the target token counts of the output
   * layer's start, one example at a time (`fit` and a streamed pass both use it). Each example's source is
   * counted before its target, so an "auto" tokenizer is chosen on the first examples' texts of both sides.
   */
  private fitter(vocabFromOtherFile: boolean): StreamingFitter<GenerationExample> {
    const { vocabFile, ...limits } = vocabFitOptions(this.config);
    const shared = this.options.shared_vocab;
    const source = TextCodec.fitter(this.sourceSpec(), { ...limits, vocabFile });
    const target = shared ? source : TextCodec.fitter(this.targetSpec(), limits);
    const targets = new TargetTokenCounter();
    // Room for the end token within max_length, as encode cuts a target.
    const countTarget = (tokens: string[]) => targets.add(tokens.slice(0, this.options.max_length - 1));
    const addTexts = (e: GenerationExample, onTarget?: (tokens: string[]) => void) => {
      source.add(e.source);
      target.add(e.target ?? '', onTarget);
    };
    return {
      vocab: (e) => addTexts(e),
      add: (e) => {
        if (!vocabFromOtherFile) addTexts(e, countTarget);
        else countTarget(target.tokens(e.target ?? ''));
      },
      finish: () => {
        this.source = source.finish();
        this.target = shared
          ? new TextCodec(this.targetSpec(), this.source.vocab)
          : new TextCodec(this.targetSpec(), target.finish().vocab);
        this.prior = targets.counts(this.target.vocab, this.targetIds().eos);
      },
    };
  }

  /**
   * Streams a pair at a time. A WordPiece target vocabulary counted from the targets cuts them by the
   * vocabulary it is counting: that case reads its file into memory.
   */
  streaming(): StreamingSupport<GenerationExample> | string {
    if (this.config.dataset.tokenizer.type === 'wordpiece' && !this.options.shared_vocab)
      return 'text_generation with a wordpiece tokenizer and its own target vocabulary reads its training file into memory';
    return tableStreaming<GenerationExample>(this.config, {
      spec: () => generationTable(true),
      fitter: (vocabFromOtherFile) => this.fitter(vocabFromOtherFile),
      fitExtra: () => Array.from(this.prior ?? []),
      restore: (saved) => {
        this.restore(saved as { dir: string; state: GenerationState });
        this.prior = Array.isArray(saved.extra) ? Float64Array.from(saved.extra as number[]) : undefined;
      },
    });
  }

  /** Training target-token counts (EOS included) for the output layer's unigram start; set by fit. */
  private prior?: Float64Array;

  targetIds(): TargetIds {
    const v = this.target.vocab;
    if (v.clsId === undefined || v.sepId === undefined)
      throw new UserError(
        'text_generation: the target vocabulary needs [CLS] and [SEP] (start and end of text)',
      );
    // [UNK] is a legitimate target token (rare characters) but never a useful output.
    const banned = [v.padId, v.clsId, v.unkId, ...(v.maskId !== undefined ? [v.maskId] : [])];
    return { pad: v.padId, bos: v.clsId, eos: v.sepId, banned };
  }

  encode(e: GenerationExample): GenerationFeatures {
    const f: GenerationFeatures = { source: this.source.encode(e.source) };
    if (e.target !== undefined) {
      // Room for the end token within max_length.
      const tokens = this.target.tokenize(e.target).slice(0, this.options.max_length - 1);
      f.target = tokens.map((t) => this.target.vocab.id(t));
    }
    return f;
  }

  buildModel(): GenerationModel {
    const net = buildSeq2Seq(this.config.model, {
      sourceVocabSize: this.source.vocab.size,
      targetVocabSize: this.target.vocab.size,
      sourcePadId: this.source.vocab.padId,
      targetPadId: this.target.vocab.padId,
      decoderLayers: this.options.decoder_layers ?? this.config.model.num_layers,
      maxTargetPositions: this.options.max_length + 1,
    });
    if (this.prior) setUnigramBias(net.outputBias, this.prior);
    if (this.config.model.pretrained_dir && net instanceof TransformerSeq2Seq)
      loadPretrained(net.encoder, this.config.model.pretrained_dir, {
        tokenizer: this.config.dataset.tokenizer,
      });
    return new GenerationModel(net, this.targetIds(), this.source.vocab.padId, this.options.label_smoothing);
  }

  /** Beam search over each source; the n-best list per source, best first. */
  generate(
    model: TaskModel<GenerationFeatures>,
    features: GenerationFeatures[],
    batchSize = 32,
  ): Hypothesis[][] {
    const m = model as GenerationModel;
    const o = this.options;
    const out: Hypothesis[][] = [];
    inferenceBatches(
      m,
      features.map((f) => f.source),
      batchSize,
      (sources) =>
        beamSearch(sources.length, m.nextTokens(m.encodeSources(sources)), {
          beamSize: o.beam_size,
          maxLength: o.max_length,
          lengthPenalty: o.length_penalty,
          bos: m.ids.bos,
          eos: m.ids.eos,
        }),
      (hypotheses) => out.push(...hypotheses),
    );
    return out;
  }

  predict(model: TaskModel<GenerationFeatures>, features: GenerationFeatures[]): GenerationPrediction[] {
    return this.generate(model, features).map((hyps) => this.toPrediction(hyps[0]));
  }

  private toPrediction(h: Hypothesis | undefined): GenerationPrediction {
    if (!h) return { text: '', tokens: [], score: -Infinity };
    const tokens = h.tokens.map((id) => this.target.vocab.token(id));
    return { text: detokenize(tokens, this.config.dataset.tokenizer.type), tokens, score: h.score };
  }

  evaluate(
    model: TaskModel<GenerationFeatures>,
    examples: GenerationExample[],
    features: GenerationFeatures[],
    batchSize: number,
  ): EvalResult {
    const m = model as GenerationModel;
    const { nll, tokens } = m.teacherForcedNll(features, batchSize);
    const hypotheses = this.generate(model, features, batchSize).map((h) => this.toPrediction(h[0]).text);
    const references = examples.map((e) => e.target ?? '');
    const chinese = references.some(containsHan);
    const bleu = corpusBleu(hypotheses, [references], { tokenize: chinese ? 'zh' : '13a' });
    const rouge = corpusRougeL(hypotheses, references);
    return {
      metrics: {
        bleu: bleu.score,
        rouge_l: rouge.f,
        loss: nll / tokens,
        perplexity: perplexity(nll, tokens),
      },
    };
  }

  predictionColumns(): string[] {
    return ['source', 'prediction'];
  }

  formatPrediction(e: GenerationExample, p: GenerationPrediction): string {
    return `${e.source}\t${p.text}`;
  }

  state(): GenerationState {
    return { separateTargetVocab: this.target.vocab !== this.source.vocab };
  }

  save(dir: string): void {
    this.source.save(dir);
    if (this.target.vocab !== this.source.vocab) this.target.vocab.save(path.join(dir, TARGET_VOCAB_FILE));
  }
}

/** A seq2seq net with its loss and the batched scoring beam search calls. */
export class GenerationModel extends Module implements TaskModel<GenerationFeatures> {
  readonly net: Seq2SeqNet;

  constructor(
    net: Seq2SeqNet,
    readonly ids: TargetIds,
    readonly sourcePad: number,
    readonly labelSmoothing: number,
  ) {
    super();
    this.net = this.child('seq2seq', net);
  }

  encodeSources(sources: EncodedText[]) {
    return this.net.encodeSource(padTexts(sources, this.sourcePad));
  }

  /** Logits [B·T, V] and targets [B·T] (−100 at padding) under teacher forcing. */
  private teacherForced(batch: GenerationFeatures[]): { logits: Tensor; target: Tensor } {
    const memory = this.encodeSources(batch.map((f) => f.source));
    const targets = batch.map((f) => {
      if (!f.target) throw new Error('teacher forcing needs target ids');
      return f.target;
    });
    const input = padBatch(
      targets.map((t) => [this.ids.bos, ...t]),
      this.ids.pad,
    );
    const time = input.ids.size(1);
    const gold = new BigInt64Array(batch.length * time).fill(-100n);
    targets.forEach((t, b) => [...t, this.ids.eos].forEach((id, j) => (gold[b * time + j] = BigInt(id))));
    const logits = this.net.decode(memory, input.ids, input.lengths);
    return {
      logits: logits.reshape(-1, logits.size(-1)),
      target: fromTyped(gold, [batch.length * time], 'int64'),
    };
  }

  /** The loss is a mean over the target tokens: each target's, and its end. */
  lossUnits(batch: GenerationFeatures[]): number {
    return batch.reduce((s, f) => s + (f.target?.length ?? 0) + 1, 0);
  }

  loss(batch: GenerationFeatures[]): Tensor {
    const { logits, target } = this.teacherForced(batch);
    return F.crossEntropy(logits, target, { labelSmoothing: this.labelSmoothing });
  }

  /** Summed target-token negative log-likelihood (no smoothing) and the token count. */
  teacherForcedNll(features: GenerationFeatures[], batchSize: number): { nll: number; tokens: number } {
    let nll = 0;
    let tokens = 0;
    inferenceBatches(
      this,
      features,
      batchSize,
      (batch) => {
        const { logits, target } = this.teacherForced(batch);
        return F.crossEntropy(logits, target, { reduction: 'sum' }).item();
      },
      (batchNll, batch) => {
        nll += batchNll;
        tokens += batch.reduce((s, f) => s + (f.target?.length ?? 0) + 1, 0);
      },
    );
    return { nll, tokens };
  }

  /** The scoring callback of beam search over an encoded batch of sources. */
  nextTokens(memory: ReturnType<GenerationModel['encodeSources']>) {
    return (rows: SearchRow[], k: number): TopTokens[] =>
      tidy(() => {
        const time = rows[0].prefix.length;
        const rowSources = fromTyped(
          BigInt64Array.from(rows, (r) => BigInt(r.source)),
          [rows.length],
          'int64',
        );
        const ids = fromTyped(
          BigInt64Array.from(
            rows.flatMap((r) => r.prefix),
            BigInt,
          ),
          [rows.length, time],
          'int64',
        );
        const lengths = full([rows.length], time, 'int64');
        const last = this.net.decode(selectMemory(memory, rowSources), ids, lengths).select(1, time - 1);
        const vocab = last.size(-1);
        const banned = fromTyped(
          Uint8Array.from({ length: vocab }, (_, i) => (this.ids.banned.includes(i) ? 1 : 0)),
          [vocab],
          'bool',
        );
        const top = last.maskedFill(banned, -1e9).logSoftmax(-1).topk(Math.min(k, vocab), -1);
        const values = top.values.toFloat32Array();
        const indices = top.indices.toArray();
        const width = indices.length / rows.length;
        return rows.map((_, r) => ({
          tokens: indices.slice(r * width, (r + 1) * width),
          logProbs: Array.from(values.subarray(r * width, (r + 1) * width)),
        }));
      });
  }
}
