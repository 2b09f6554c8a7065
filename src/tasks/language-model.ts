/**
 * Causal language modelling (task `language_model`, objective "causal"): learn P(next token | tokens so
 * far) from plain text, one text per line (a `<s> … <e>` frame is removed). Each text is scored as
 * [BOS] tokens → tokens [EOS] ([CLS] and [SEP] of the vocabulary serve as BOS and EOS), so a text's
 * probability includes ending where it ends.
 *
 * Evaluation reports perplexity per token (EOS included); `scoreTexts` gives each text's log-likelihood
 * (`alembic score`: "how likely is this a normal sentence"); predict continues each input line by
 * sampling with the config's temperature and top-k.
 */
import { fromTyped } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { Module } from '../engine/nn/module.js';
import { noGrad, tidy } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import { languageModelTable, readLanguageModelText } from '../data/readers/generation.js';
import type { TextExample } from '../data/readers/types.js';
import { perplexity } from '../metrics/generation.js';
import { sampleToken } from '../nets/decoder-search.js';
import { inEvalMode, inferenceBatches } from '../nets/eval-mode.js';
import { buildLanguageModel, type LanguageModelNet } from '../nets/lm.js';
import { setUnigramBias, TargetTokenCounter } from '../nets/output-prior.js';
import { padBatch } from '../nets/batching.js';
import { generationSchema, type TrainConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { readerOptions, warnSkipped } from './dataset-options.js';
import { detokenize } from './generation.js';
import type { EvalResult, StreamingFitter, StreamingSupport, Task, TaskModel } from './task.js';
import { fitExamples, tableStreaming } from './table-streaming.js';
import { TextCodec } from './text-codec.js';

export interface LmFeatures {
  /** Token ids of the text, without BOS/EOS. */
  ids: number[];
}

export interface LmPrediction {
  /** The sampled continuation, detokenised. */
  text: string;
  tokens: string[];
}

export interface TextScore {
  /** Natural-log probability of the whole text, EOS included. */
  logProb: number;
  /** Tokens scored (the text's tokens + EOS). */
  tokens: number;
  /** exp(−logProb / tokens). */
  perplexity: number;
}

/** The special ids a causal LM needs from its vocabulary. */
interface LmIds {
  pad: number;
  bos: number;
  eos: number;
}

export class CausalLmTask implements Task<TextExample, LmFeatures, LmPrediction> {
  readonly name = 'language_model';
  readonly defaultMetric = 'perplexity';
  codec!: TextCodec;

  constructor(
    readonly config: TrainConfig,
    saved?: { dir: string; state: unknown },
  ) {
    if (saved) this.codec = TextCodec.load(this.codecSpec(), saved.dir);
  }

  private codecSpec() {
    const d = this.config.dataset;
    return { tokenizer: d.tokenizer, maxLen: d.max_len, specials: false };
  }

  read(
    file: string,
    { skipBadLines }: { labelled: boolean; skipBadLines?: boolean },
  ): Promise<TextExample[]> {
    return readLanguageModelCorpus(this.config, file, skipBadLines);
  }

  fit(train: TextExample[], vocabSource?: TextExample[]): void {
    fitExamples(this.fitter(vocabSource !== undefined), train, vocabSource);
  }

  /**
   * The vocabulary and the training token counts of the output layer's start, one text at a time (`fit`
   * and a streamed pass both use it): each text's tokens as encode cuts them, then its end.
   */
  private fitter(vocabFromOtherFile: boolean): StreamingFitter<TextExample> {
    const d = this.config.dataset;
    const codec = TextCodec.fitter(this.codecSpec(), {
      minFreq: d.vocab.min_freq,
      maxSize: d.vocab.max_size,
      vocabFile: d.tokenizer.vocab,
    });
    const targets = new TargetTokenCounter();
    const countTarget = (tokens: string[]) => targets.add(tokens.slice(0, this.maxTokens));
    return {
      vocab: (e) => codec.add(e.text),
      add: (e) => {
        if (vocabFromOtherFile) countTarget(codec.tokens(e.text));
        else codec.add(e.text, countTarget);
      },
      finish: () => {
        this.codec = codec.finish();
        this.ids(); // fails early when a given vocab.txt lacks [CLS]/[SEP]
        this.prior = targets.counts(this.codec.vocab, this.ids().eos);
      },
    };
  }

  /** Streams a line at a time: each text is one example, as in memory (texts are not joined into one token stream). */
  streaming(): StreamingSupport<TextExample> {
    return tableStreaming<TextExample>(this.config, {
      spec: (file) => languageModelTable(file),
      fitter: (vocabFromOtherFile) => this.fitter(vocabFromOtherFile),
      fitExtra: () => Array.from(this.prior ?? []),
      restore: (saved) => {
        this.codec = TextCodec.load(this.codecSpec(), saved.dir);
        this.prior = Array.isArray(saved.extra) ? Float64Array.from(saved.extra as number[]) : undefined;
      },
    });
  }

  /** Training token counts (EOS included) for the output layer's unigram start; set by fit. */
  private prior?: Float64Array;

  ids(): LmIds {
    const v = this.codec.vocab;
    if (v.clsId === undefined || v.sepId === undefined)
      throw new UserError(
        'language_model: the vocabulary needs [CLS] and [SEP] (used as start and end of text)',
      );
    return { pad: v.padId, bos: v.clsId, eos: v.sepId };
  }

  encode(e: TextExample): LmFeatures {
    const tokens = this.codec.tokenize(e.text).slice(0, this.maxTokens);
    return { ids: tokens.map((t) => this.codec.vocab.id(t)) };
  }

  /** The most tokens of a text encode keeps: max_len less room for BOS/EOS. */
  get maxTokens(): number {
    return Math.max(1, this.config.dataset.max_len - 2);
  }

  /** A text's length in tokens before encode cuts it to maxTokens. */
  tokenCount(e: TextExample): number {
    return this.codec.tokenize(e.text).length;
  }

  buildModel(): CausalLmModel {
    const net = buildLanguageModel(this.config.model, this.codec.vocab.size, this.codec.vocab.padId);
    const positions = this.config.model.max_positions;
    if (this.config.model.net === 'transformer' && positions < this.config.dataset.max_len)
      throw new UserError(
        `model.max_positions ${positions} is shorter than dataset.max_len ${this.config.dataset.max_len}`,
      );
    if (this.prior) setUnigramBias(net.outputBias, this.prior);
    return new CausalLmModel(net, this.ids());
  }

  predict(model: TaskModel<LmFeatures>, features: LmFeatures[]): LmPrediction[] {
    const g = generationSchema.parse(this.config.generation ?? {});
    const rng = new Rng(this.config.trainer.seed);
    const m = model as CausalLmModel;
    const maxLen = Math.max(this.config.dataset.max_len, g.max_length);
    const banned = new Set([m.ids.pad, m.ids.bos, this.codec.vocab.unkId]);
    const out = sampleContinuations(m, features, { temperature: g.temperature, topK: g.top_k }, rng, {
      maxNewTokens: g.max_length,
      maxTotal:
        this.config.model.net === 'transformer' ? Math.min(maxLen, this.config.model.max_positions) : maxLen,
      banned,
    });
    return out.map((ids) => {
      const tokens = ids.map((id) => this.codec.vocab.token(id));
      return { tokens, text: detokenize(tokens, this.config.dataset.tokenizer.type) };
    });
  }

  evaluate(
    model: TaskModel<LmFeatures>,
    _examples: TextExample[],
    features: LmFeatures[],
    batchSize: number,
  ): EvalResult {
    const scores = scoreTexts(model as CausalLmModel, features, batchSize);
    const nll = scores.reduce((s, x) => s - x.logProb, 0);
    const tokens = scores.reduce((s, x) => s + x.tokens, 0);
    return { metrics: { loss: nll / tokens, perplexity: perplexity(nll, tokens), tokens } };
  }

  predictionColumns(): string[] {
    return ['text', 'continuation'];
  }

  formatPrediction(e: TextExample, p: LmPrediction): string {
    return `${e.text}\t${p.text}`;
  }

  state(): Record<string, never> {
    return {};
  }

  save(dir: string): void {
    this.codec.save(dir);
  }
}

/** Input [BOS] x and target x [EOS] for each text, padded (targets with −100, ignored by the loss). */
function teacherForcing(
  batch: LmFeatures[],
  ids: LmIds,
): { input: ReturnType<typeof padBatch>; target: Tensor } {
  const input = padBatch(
    batch.map((f) => [ids.bos, ...f.ids]),
    ids.pad,
  );
  const time = input.ids.size(1);
  const target = new BigInt64Array(batch.length * time).fill(-100n);
  batch.forEach((f, b) => {
    [...f.ids, ids.eos].forEach((id, t) => (target[b * time + t] = BigInt(id)));
  });
  return { input, target: fromTyped(target, [batch.length * time], 'int64') };
}

/** An LM net plus the loss: mean next-token cross-entropy over real tokens. */
export class CausalLmModel extends Module implements TaskModel<LmFeatures> {
  readonly net: LanguageModelNet;

  constructor(
    net: LanguageModelNet,
    readonly ids: LmIds,
  ) {
    super();
    this.net = this.child('lm', net);
  }

  /** Logits [B·T, V] and targets [B·T] of a batch under teacher forcing. */
  private forward(batch: LmFeatures[]): { logits: Tensor; target: Tensor } {
    const { input, target } = teacherForcing(batch, this.ids);
    const logits = this.net.logits(input.ids, input.lengths);
    return { logits: logits.reshape(-1, logits.size(-1)), target };
  }

  /** The loss is a mean over the predicted tokens: each text's, and its end. */
  lossUnits(batch: LmFeatures[]): number {
    return batch.reduce((s, f) => s + f.ids.length + 1, 0);
  }

  loss(batch: LmFeatures[]): Tensor {
    const { logits, target } = this.forward(batch);
    return F.crossEntropy(logits, target);
  }

  /** Per-token negative log-likelihoods [B·T] (0 at padding). */
  tokenNll(batch: LmFeatures[]): Tensor {
    const { logits, target } = this.forward(batch);
    return F.crossEntropy(logits, target, { reduction: 'none' });
  }
}

/** A corpus of one text per line: what both objectives, causal and masked, read (labelled or not). */
export async function readLanguageModelCorpus(
  config: TrainConfig,
  file: string,
  skipBadLines: boolean | undefined,
): Promise<TextExample[]> {
  const { examples, skipped } = await readLanguageModelText(file, readerOptions(config, skipBadLines));
  warnSkipped(file, skipped);
  return examples;
}

/** Each text's log-likelihood under the model, in batches without autograd. */
export function scoreTexts(model: CausalLmModel, features: LmFeatures[], batchSize = 64): TextScore[] {
  const out: TextScore[] = [];
  inferenceBatches(
    model,
    features,
    batchSize,
    (batch) => model.tokenNll(batch).toFloat64Array(),
    (nll, batch) => {
      const time = nll.length / batch.length;
      batch.forEach((f, b) => {
        let sum = 0;
        for (let t = 0; t <= f.ids.length; t++) sum += nll[b * time + t];
        const tokens = f.ids.length + 1;
        out.push({ logProb: -sum, tokens, perplexity: Math.exp(sum / tokens) });
      });
    },
  );
  return out;
}

/**
 * Continues each prefix by sampling until EOS or `maxNewTokens`. Prefixes grow one token per step and
 * the model re-reads each whole prefix (the engine's RNN takes no initial state to resume from), which is
 * fine at the lengths of sentences and poems.
 */
export function sampleContinuations(
  model: CausalLmModel,
  features: LmFeatures[],
  sampling: { temperature: number; topK: number },
  rng: Rng,
  limits: { maxNewTokens: number; maxTotal: number; banned: ReadonlySet<number> },
): number[][] {
  const { bos, eos, pad } = model.ids;
  const prefixes = features.map((f) => [bos, ...f.ids]);
  const generated: number[][] = features.map(() => []);
  const active = new Set(features.map((_, i) => i));
  inEvalMode(model, () => {
    for (let step = 0; step < limits.maxNewTokens && active.size > 0; step++) {
      const rows = [...active];
      const last = noGrad(() =>
        tidy(() => {
          const input = padBatch(
            rows.map((r) => prefixes[r]),
            pad,
          );
          const logits = model.net.logits(input.ids, input.lengths); // [R, T, V]
          const v = logits.size(-1);
          const pos = fromTyped(
            BigInt64Array.from(rows, (r) => BigInt(prefixes[r].length - 1)),
            [rows.length, 1, 1],
            'int64',
          ).expand(rows.length, 1, v);
          return logits.gather(1, pos).squeeze(1).toFloat32Array();
        }),
      );
      const v = last.length / rows.length;
      rows.forEach((r, i) => {
        const token = sampleToken(last.subarray(i * v, (i + 1) * v), sampling, rng, limits.banned);
        if (token === eos) {
          active.delete(r);
          return;
        }
        prefixes[r].push(token);
        generated[r].push(token);
        if (prefixes[r].length >= limits.maxTotal) active.delete(r);
      });
    }
  });
  return generated;
}
