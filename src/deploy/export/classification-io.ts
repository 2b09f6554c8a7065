/**
 * Feeding an exported classification graph and reading its outputs: the same TextCodec as training
 * (tokeniser, vocab.txt, max_len, [CLS]/[SEP] for the Transformer) and the same decisions as
 * ClassificationTask (argmax, or every label at or above the saved threshold for multi-label), without
 * libtorch.
 */
import { ngramSpecOf } from '../../data/ngram-hash.js';
import type { ClassificationState } from '../../tasks/classification.js';
import { TextCodec } from '../../tasks/text-codec.js';
import { UserError } from '../../util/errors.js';
import type { RunOutput, TensorValue } from '../onnx/index.js';
import type { PredictInput, PredictOutput } from '../predictor.js';
import {
  ATTENTION_MASK,
  ATTENTION_MASK_B,
  INPUT_IDS,
  INPUT_IDS_B,
  NUMERIC_FEATURES,
  padIds,
  PROBABILITIES,
  TOKEN_TYPE_IDS,
} from './io.js';
import type { DeployManifest } from './manifest.js';
import type { TaskRuntime } from './task-runtime.js';

/** A prediction input with the config's numeric features by name (missing ones count as 0, as in training). */
export interface FeaturedInput extends PredictInput {
  features?: Record<string, number>;
}

export function classificationRuntime(
  manifest: DeployManifest,
  dir: string,
): TaskRuntime<FeaturedInput, PredictOutput> {
  const config = manifest.config;
  const state = manifest.state as ClassificationState;
  const transformer = config.model.net === 'transformer';
  // The spec ClassificationTask builds its codec from; the vocabulary is the directory's vocab.txt.
  const codec = TextCodec.load(
    {
      tokenizer: config.dataset.tokenizer,
      maxLen: config.dataset.max_len,
      specials: transformer,
      ngrams: ngramSpecOf(config.model),
    },
    dir,
  );
  const pair = manifest.task === 'text_pair_classification';
  const multiLabel = manifest.task === 'multi_label_classification';
  const labels = state.labels;
  const featureNames = state.numeric.names;
  const padId = codec.vocab.padId;
  // A Hugging Face-layout export declares token_type_ids for one text too: all zeros, as HF tokenisers give.
  const oneTextTypes = !pair && (manifest.onnx?.inputs.some((i) => i.name === TOKEN_TYPE_IDS) ?? false);

  const feeds = (inputs: FeaturedInput[]): Record<string, TensorValue> => {
    const out: Record<string, TensorValue> = {};
    if (pair && transformer) {
      const enc = inputs.map((x) => codec.encodePair(x.text, x.textB ?? ''));
      const p = padIds(
        enc.map((e) => e.ids),
        padId,
        enc.map((e) => e.typeIds),
      );
      Object.assign(out, { [INPUT_IDS]: p.ids, [ATTENTION_MASK]: p.mask, [TOKEN_TYPE_IDS]: p.typeIds! });
    } else {
      const a = padIds(
        inputs.map((x) => codec.encode(x.text).ids),
        padId,
        oneTextTypes ? inputs.map(() => undefined) : undefined,
      );
      Object.assign(out, { [INPUT_IDS]: a.ids, [ATTENTION_MASK]: a.mask });
      if (a.typeIds) out[TOKEN_TYPE_IDS] = a.typeIds;
      if (pair) {
        const b = padIds(
          inputs.map((x) => codec.encode(x.textB ?? '').ids),
          padId,
        );
        Object.assign(out, { [INPUT_IDS_B]: b.ids, [ATTENTION_MASK_B]: b.mask });
      }
    }
    if (featureNames.length > 0) {
      const values = new Float32Array(inputs.length * featureNames.length);
      inputs.forEach((x, r) =>
        featureNames.forEach((n, c) => (values[r * featureNames.length + c] = x.features?.[n] ?? 0)),
      );
      out[NUMERIC_FEATURES] = { data: values, dims: [inputs.length, featureNames.length] };
    }
    return out;
  };

  const decide = (p: number[]): string[] => {
    if (!multiLabel) {
      let best = 0;
      for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
      return [labels[best]];
    }
    return p.flatMap((v, i) => (v >= state.threshold ? [labels[i]] : []));
  };

  const decode = (outputs: Record<string, RunOutput>, count: number): PredictOutput[] => {
    const probs = outputs[PROBABILITIES];
    if (!probs || probs.dims[0] !== count || probs.dims[1] !== labels.length) {
      throw new UserError(
        `${dir}: the model's probabilities output does not match its ${labels.length} labels`,
      );
    }
    const k = labels.length;
    const flat = probs.data as Float32Array;
    const out: PredictOutput[] = [];
    for (let r = 0; r < count; r++) {
      const p = Array.from(flat.subarray(r * k, (r + 1) * k));
      out.push({ labels: decide(p), probabilities: p });
    }
    return out;
  };

  return {
    task: manifest.task,
    labels,
    // Only the probabilities: the logits would be one more tensor copied out of onnxruntime per call.
    predict: async (examples, run) => decode(await run(feeds(examples), [PROBABILITIES]), examples.length),
    fromInput: (input) => input,
    toOutput: (p) => p,
  };
}
