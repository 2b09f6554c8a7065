/**
 * Masked-language-model pre-training of the BERT-style encoder (task `language_model` with
 * `language_model.objective: "masked"`, or `alembic pretrain`): on unlabelled text, some tokens are
 * chosen (mask_prob, 15% by default) and the model predicts them from both sides; of the chosen tokens
 * 80% are replaced by [MASK], 10% by a random token and 10% left as they are (Devlin et al. 2019), so the
 * encoder cannot learn that only [MASK] positions matter.
 *
 * Training masks with libtorch's generator (saved in checkpoints, so a resumed run masks the same way);
 * evaluation masks with a fixed seed so every evaluation scores the same positions. Predict fills the
 * [MASK] tokens written in the input text.
 */
import { fromTyped, rand } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { noGrad, tidy } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import { languageModelTable } from '../data/readers/generation.js';
import type { TextExample } from '../data/readers/types.js';
import { perplexity } from '../metrics/generation.js';
import { transformerOptions } from '../nets/build.js';
import { inEvalMode, inferenceBatches } from '../nets/eval-mode.js';
import { MaskedLanguageModel } from '../nets/lm-masked.js';
import { loadPretrained } from '../nets/pretrained.js';
import { TransformerEncoder } from '../nets/transformer.js';
import { padBatch } from '../nets/batching.js';
import { languageModelSchema, type TrainConfig } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { vocabFitOptions } from './dataset-options.js';
import { detokenize } from './generation.js';
import { readLanguageModelCorpus } from './language-model.js';
import type { EvalResult, StreamingFitter, StreamingSupport, Task, TaskModel } from './task.js';
import { fitExamples, tableStreaming } from './table-streaming.js';
import { TextCodec } from './text-codec.js';

export interface MlmFeatures {
  /** [CLS] tokens [SEP]. */
  ids: number[];
}

export interface MlmPrediction {
  /** The input with each [MASK] replaced by the most likely token. */
  text: string;
  /** The filled tokens, in order. */
  filled: string[];
}

/** Which positions are predicted, and the ids the encoder sees there. */
export interface MaskPlan {
  /** Model input ids per example (chosen positions replaced). */
  inputs: number[][];
  /** Chosen positions as row-major indices into the padded [B, T] batch. */
  positions: number[];
  /** The original ids at those positions. */
  targets: number[];
}

interface MlmIds {
  pad: number;
  mask: number;
  /** Ids never chosen for prediction nor drawn as random replacements. */
  specials: ReadonlySet<number>;
  vocabSize: number;
}

/**
 * Chooses positions and replacements from uniform draws `u(b, t, k)` in [0, 1): k = 0 decides whether
 * the token is chosen, 1 what replaces it, 2 which random token. At least one position per batch is
 * chosen so the loss is always defined.
 */
export function planMasking(
  batch: readonly (readonly number[])[],
  ids: MlmIds,
  maskProb: number,
  u: (b: number, t: number, k: number) => number,
): MaskPlan {
  const time = Math.max(...batch.map((s) => s.length));
  const inputs = batch.map((s) => [...s]);
  const positions: number[] = [];
  const targets: number[] = [];
  const choose = (b: number, t: number) => {
    positions.push(b * time + t);
    targets.push(batch[b][t]);
    const kind = u(b, t, 1);
    if (kind < 0.8) inputs[b][t] = ids.mask;
    else if (kind < 0.9) inputs[b][t] = randomToken(u(b, t, 2), ids);
  };
  batch.forEach((seq, b) =>
    seq.forEach((id, t) => {
      if (!ids.specials.has(id) && u(b, t, 0) < maskProb) choose(b, t);
    }),
  );
  if (positions.length === 0) {
    const b = batch.findIndex((s) => s.some((id) => !ids.specials.has(id)));
    if (b < 0) throw new UserError('masked LM: a batch has no ordinary token to predict');
    choose(
      b,
      batch[b].findIndex((id) => !ids.specials.has(id)),
    );
  }
  return { inputs, positions, targets };
}

function randomToken(u: number, ids: MlmIds): number {
  // Walk forward from a uniform start past special ids (a BERT vocab.txt scatters them).
  let id = Math.min(ids.vocabSize - 1, Math.floor(u * ids.vocabSize));
  for (let i = 0; i < ids.vocabSize && ids.specials.has(id); i++) id = (id + 1) % ids.vocabSize;
  return id;
}

export class MaskedLmTask implements Task<TextExample, MlmFeatures, MlmPrediction> {
  readonly name = 'language_model';
  readonly defaultMetric = 'perplexity';
  codec!: TextCodec;
  readonly maskProb: number;

  constructor(
    readonly config: TrainConfig,
    saved?: { dir: string; state: unknown },
  ) {
    if (config.model.net !== 'transformer')
      throw new UserError(
        `model.net: masked-LM pre-training is for the transformer, not "${config.model.net}"`,
      );
    this.maskProb = languageModelSchema.parse(config.language_model ?? {}).mask_prob;
    if (saved) this.codec = TextCodec.load(this.codecSpec(), saved.dir);
  }

  private codecSpec() {
    const d = this.config.dataset;
    return { tokenizer: d.tokenizer, maxLen: d.max_len, specials: true };
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

  /** The vocabulary, one text at a time (`fit` and a streamed pass both use it). */
  private fitter(vocabFromOtherFile: boolean): StreamingFitter<TextExample> {
    const codec = TextCodec.fitter(this.codecSpec(), vocabFitOptions(this.config));
    return {
      vocab: (e) => codec.add(e.text),
      add: (e) => {
        if (!vocabFromOtherFile) codec.add(e.text);
      },
      finish: () => {
        this.codec = codec.finish();
        this.ids();
      },
    };
  }

  /** Pre-training text streams a line at a time: the masks are drawn per batch, as in memory. */
  streaming(): StreamingSupport<TextExample> {
    return tableStreaming<TextExample>(this.config, {
      spec: (file) => languageModelTable(file),
      fitter: (vocabFromOtherFile) => this.fitter(vocabFromOtherFile),
      restore: (saved) => {
        this.codec = TextCodec.load(this.codecSpec(), saved.dir);
      },
    });
  }

  ids(): MlmIds {
    const v = this.codec.vocab;
    if (v.maskId === undefined || v.clsId === undefined || v.sepId === undefined)
      throw new UserError('masked LM: the vocabulary needs [CLS], [SEP] and [MASK]');
    return {
      pad: v.padId,
      mask: v.maskId,
      specials: new Set([v.padId, v.unkId, v.clsId, v.sepId, v.maskId]),
      vocabSize: v.size,
    };
  }

  encode(e: TextExample): MlmFeatures {
    return { ids: this.codec.encode(e.text).ids };
  }

  buildModel(): MaskedLmModel {
    const encoder = new TransformerEncoder(
      transformerOptions(this.config.model, this.codec.vocab.size, this.codec.vocab.padId),
    );
    if (this.config.model.pretrained_dir)
      loadPretrained(encoder, this.config.model.pretrained_dir, { tokenizer: this.config.dataset.tokenizer });
    return new MaskedLmModel(encoder, this.ids(), this.maskProb);
  }

  predict(model: TaskModel<MlmFeatures>, features: MlmFeatures[]): MlmPrediction[] {
    const m = model as MaskedLmModel;
    const ids = this.ids();
    return inEvalMode(m, () =>
      features.map((f) => {
        const positions = f.ids.flatMap((id, t) => (id === ids.mask ? [t] : []));
        if (positions.length === 0) return { text: this.textOf(f.ids), filled: [] };
        const best = noGrad(() =>
          tidy(() => {
            const input = padBatch([f.ids], ids.pad);
            const logits = m.logitsAt(
              input,
              fromTyped(BigInt64Array.from(positions, BigInt), [positions.length], 'int64'),
            );
            // Never fill a mask with a special token.
            const banned = fromTyped(
              Uint8Array.from({ length: ids.vocabSize }, (_, i) => (ids.specials.has(i) ? 1 : 0)),
              [ids.vocabSize],
              'bool',
            );
            return logits.maskedFill(banned, -1e9).argmax(-1).toArray();
          }),
        );
        const filled = [...f.ids];
        positions.forEach((t, i) => (filled[t] = best[i]));
        return { text: this.textOf(filled), filled: best.map((id) => this.codec.vocab.token(id)) };
      }),
    );
  }

  private textOf(ids: number[]): string {
    const tokens = ids.slice(1, -1).map((id) => this.codec.vocab.token(id));
    return detokenize(tokens, this.config.dataset.tokenizer.type);
  }

  evaluate(
    model: TaskModel<MlmFeatures>,
    _examples: TextExample[],
    features: MlmFeatures[],
    batchSize: number,
  ): EvalResult {
    const m = model as MaskedLmModel;
    const rng = new Rng(this.config.trainer.seed + 1);
    let nll = 0;
    let correct = 0;
    let count = 0;
    inferenceBatches(
      m,
      features.map((f) => f.ids),
      batchSize,
      (batch) => {
        // Masking draws from rng batch after batch, in order: the same masks on every evaluation.
        const plan = planMasking(batch, m.ids, m.maskProb, () => rng.next());
        const { logits, target } = m.planned(plan);
        const loss = F.crossEntropy(logits, target, { reduction: 'sum' }).item();
        const hits = logits.argmax(-1).eq(target).sum().item();
        return { loss, hits, targets: plan.targets.length };
      },
      (r) => {
        nll += r.loss;
        correct += r.hits;
        count += r.targets;
      },
    );
    return {
      metrics: {
        loss: nll / count,
        perplexity: perplexity(nll, count),
        masked_accuracy: correct / count,
        masked_tokens: count,
      },
    };
  }

  predictionColumns(): string[] {
    return ['text', 'filled_text', 'filled_tokens'];
  }

  formatPrediction(e: TextExample, p: MlmPrediction): string {
    return `${e.text}\t${p.text}\t${p.filled.join(' ')}`;
  }

  state(): Record<string, never> {
    return {};
  }

  save(dir: string): void {
    this.codec.save(dir);
  }
}

/** The pre-training model with its loss. Parameter names are Hugging Face BertForMaskedLM's. */
export class MaskedLmModel extends MaskedLanguageModel implements TaskModel<MlmFeatures> {
  constructor(
    encoder: TransformerEncoder,
    readonly ids: MlmIds,
    readonly maskProb: number,
  ) {
    super(encoder);
  }

  /** Logits [N, V] at the plan's positions and the targets [N]. */
  planned(plan: MaskPlan): { logits: Tensor; target: Tensor } {
    const input = padBatch(plan.inputs, this.ids.pad);
    const positions = fromTyped(BigInt64Array.from(plan.positions, BigInt), [plan.positions.length], 'int64');
    const target = fromTyped(BigInt64Array.from(plan.targets, BigInt), [plan.targets.length], 'int64');
    return { logits: this.logitsAt(input, positions), target };
  }

  /**
   * The loss is a mean over the masked tokens, drawn in `loss`: their expected number is proportional to
   * the tokens, so ranks weighted by tokens average to the global batch's mean in expectation.
   */
  lossUnits(batch: MlmFeatures[]): number {
    return batch.reduce((s, f) => s + f.ids.length, 0);
  }

  loss(batch: MlmFeatures[]): Tensor {
    const seqs = batch.map((f) => f.ids);
    const time = Math.max(...seqs.map((s) => s.length));
    const draws = rand([seqs.length, time, 3]).toFloat32Array();
    const plan = planMasking(seqs, this.ids, this.maskProb, (b, t, k) => draws[(b * time + t) * 3 + k]);
    const { logits, target } = this.planned(plan);
    return F.crossEntropy(logits, target);
  }
}
