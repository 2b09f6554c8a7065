/**
 * Hugging Face-shaped model directories. A fine-tuned Transformer's best/ also carries what
 * `AutoModelFor….from_pretrained(dir)` reads: config.json (model_type bert or ernie, sizes, id2label and
 * label2id, problem_type), tokenizer_config.json beside vocab.txt, and model.safetensors under Hugging
 * Face's names (`bert.encoder.layer.0…`, `classifier.*`, `qa_outputs.*`) with the metadata
 * {"format": "pt"} that transformers requires.
 *
 * `architectures` is claimed only when alembic's network computes exactly what that class computes:
 * [CLS] pooling and a linear head on it (…ForSequenceClassification; a cross-encoder matcher is one with
 * one label), a softmax tagger (…ForTokenClassification), a span model (…ForQuestionAnswering). Mean
 * pooling, numeric features or a CRF have no Hugging Face class: config.json then claims no architecture
 * (AutoModel still loads the encoder) and says why. Tensors the Hugging Face class has no place for (a
 * CRF's transitions, a pooler that token and span models do not use, such heads) go to
 * alembic-extra.safetensors under alembic's names, so the directory reloads in alembic whole.
 *
 * Reading goes by the metadata: model.safetensors with {"format": "alembic"} is the older layout (alembic's
 * names throughout) and loads as before; {"format": "pt"} names the encoder prefix and the renamed heads.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadTensors, saveTensors } from '../engine/state-io.js';
import type { Module } from '../engine/nn/module.js';
import type { Tensor } from '../engine/tensor.js';
import { readBertConfig } from '../nets/checkpoint-names.js';
import { TransformerEncoder } from '../nets/transformer.js';
import { ClassifierModel } from '../tasks/classification.js';
import { MatchingModel } from '../tasks/matching.js';
import { SpanModel } from '../tasks/reading-comprehension.js';
import { SequenceLabelerModel } from '../tasks/sequence-labeling.js';
import type { TrainConfig } from '../config/run-config.js';

export const HF_WEIGHTS_FILE = 'model.safetensors';
export const EXTRA_WEIGHTS_FILE = 'alembic-extra.safetensors';
export const HF_CONFIG_FILE = 'config.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** Metadata keys of model.safetensors that let alembic map the names back. */
const PREFIX_KEY = 'alembic_encoder_prefix';
const RENAMES_KEY = 'alembic_renames';

export interface HfLayout {
  modelType: 'bert' | 'ernie';
  /** The Hugging Face class alembic's network is, when it is one. */
  architecture?: string;
  /** Why no class is claimed. */
  noArchitecture?: string;
  problemType?: string;
  /** alembic head name → Hugging Face name (`scorer.weight` → `classifier.weight`). */
  renames: Record<string, string>;
  /** Whether the Hugging Face class has the pooler (sequence classification does, token and span ones not). */
  keepsPooler: boolean;
  encoder: TransformerEncoder;
}

/** The layout of a Transformer task model, or undefined for nets and tasks Hugging Face has no class for. */
export function hfLayout(config: TrainConfig, model: Module): HfLayout | undefined {
  const encoder = (model as { encoder?: unknown }).encoder;
  if (!(encoder instanceof TransformerEncoder)) return undefined;
  const modelType = encoderModelType(config, encoder);
  const prefix = modelType === 'ernie' ? 'Ernie' : 'Bert';
  const cls = encoder.options.pooling === 'cls';
  const meanPooling = 'the pooler reads the mean of the tokens (model.pooling "mean"), not [CLS]';
  const base = { modelType, encoder, renames: {} as Record<string, string>, keepsPooler: true };
  const classify = (why: string | undefined, extra: Partial<HfLayout> = {}): HfLayout =>
    why
      ? { ...base, noArchitecture: why }
      : { ...base, architecture: `${prefix}ForSequenceClassification`, ...extra };
  if (model instanceof ClassifierModel) {
    const problemType =
      config.task === 'multi_label_classification'
        ? 'multi_label_classification'
        : 'single_label_classification';
    const why = model.opts.numericSize
      ? 'the head also reads numeric features (dataset.numeric_features)'
      : cls
        ? undefined
        : meanPooling;
    return { ...classify(why, { problemType }), problemType };
  }
  if (model instanceof MatchingModel) {
    const why =
      model.opts.head !== 'cross'
        ? `the ${model.opts.head} head scores two encoded texts`
        : cls
          ? undefined
          : meanPooling;
    return classify(why, {
      renames: { 'scorer.weight': 'classifier.weight', 'scorer.bias': 'classifier.bias' },
    });
  }
  if (model instanceof SequenceLabelerModel) {
    if (model.crf) return { ...base, noArchitecture: 'a CRF decodes the tags (model.head "crf")' };
    return { ...base, architecture: `${prefix}ForTokenClassification`, keepsPooler: false };
  }
  if (model instanceof SpanModel) {
    return { ...base, architecture: `${prefix}ForQuestionAnswering`, keepsPooler: false };
  }
  return undefined;
}

/** ERNIE when the encoder has task-type embeddings or its checkpoint said so; BERT otherwise. */
function encoderModelType(config: TrainConfig, encoder: TransformerEncoder): 'bert' | 'ernie' {
  if (encoder.options.taskTypeVocabSize > 0) return 'ernie';
  const architecture = config.model.encoder_config ?? config.model.pretrained_dir;
  if (!architecture) return 'bert';
  const source = JSON.parse(readFileSync(readBertConfig(architecture).source, 'utf8')) as {
    model_type?: unknown;
  };
  return source.model_type === 'ernie' ? 'ernie' : 'bert';
}

/** The Hugging Face name of an alembic parameter, or undefined when it belongs in the extra file. */
export function hfName(layout: HfLayout, name: string): string | undefined {
  if (name.startsWith('encoder.')) {
    const rest = name.slice('encoder.'.length);
    if (rest.startsWith('pooler.') && !layout.keepsPooler) return undefined;
    return `${layout.modelType}.${rest}`;
  }
  if (layout.architecture === undefined) return undefined;
  return layout.renames[name] ?? name;
}

/** Writes the weights in the Hugging Face layout, and config.json and tokenizer_config.json beside them. */
export function writeHfModel(dir: string, config: TrainConfig, layout: HfLayout, model: Module): void {
  const hf = new Map<string, Tensor>();
  const extra = new Map<string, Tensor>();
  for (const [name, tensor] of model.stateDict()) {
    const target = hfName(layout, name);
    if (target === undefined) extra.set(name, tensor);
    else hf.set(target, tensor);
  }
  const renames = Object.fromEntries(Object.entries(layout.renames).map(([from, to]) => [to, from]));
  saveTensors(path.join(dir, HF_WEIGHTS_FILE), hf, {
    format: 'pt',
    [PREFIX_KEY]: layout.modelType,
    [RENAMES_KEY]: JSON.stringify(layout.architecture ? renames : {}),
  });
  if (extra.size > 0) saveTensors(path.join(dir, EXTRA_WEIGHTS_FILE), extra, { format: 'alembic' });
  writeJson(path.join(dir, HF_CONFIG_FILE), hfConfig(dir, config, layout));
  writeJson(path.join(dir, TOKENIZER_CONFIG_FILE), tokenizerConfig(config));
}

/** tokenizer_config.json: BertTokenizer's switches and special tokens, max_len as model_max_length. */
export function tokenizerConfig(config: TrainConfig): Record<string, unknown> {
  const tokenizer = config.dataset.tokenizer;
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: tokenizer.lowercase,
    tokenize_chinese_chars: true,
    model_max_length: config.dataset.max_len,
    unk_token: '[UNK]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    cls_token: '[CLS]',
    mask_token: '[MASK]',
    // BertTokenizer splits as alembic's wordpiece tokenizer does, and as its char tokenizer does on Chinese;
    // jieba words and char-split Latin words it does not reproduce.
    alembic_tokenizer: tokenizer.type,
  };
}

/** The fields of a Hugging Face BERT config.json that describe the encoder itself (its shape and dropouts). */
export function bertShapeFields(o: TransformerEncoder['options']): Record<string, unknown> {
  return {
    vocab_size: o.vocabSize,
    hidden_size: o.hiddenSize,
    num_hidden_layers: o.numLayers,
    num_attention_heads: o.numHeads,
    intermediate_size: o.ffnSize,
    max_position_embeddings: o.maxPositions,
    type_vocab_size: o.typeVocabSize,
    hidden_act: o.activation === 'gelu_tanh' ? 'gelu_new' : o.activation,
    hidden_dropout_prob: o.dropout,
    attention_probs_dropout_prob: o.attentionDropout,
    layer_norm_eps: o.layerNormEps,
    initializer_range: 0.02,
    pad_token_id: o.paddingIdx,
    position_embedding_type: 'absolute',
  };
}

/** config.json of a model directory `dir` (its label_map.json names the labels). */
export function hfConfig(dir: string, config: TrainConfig, layout: HfLayout): Record<string, unknown> {
  const o = layout.encoder.options;
  const labels = readLabels(dir, layout);
  return {
    ...(layout.architecture ? { architectures: [layout.architecture] } : {}),
    model_type: layout.modelType,
    ...bertShapeFields(o),
    ...(layout.modelType === 'ernie'
      ? { use_task_id: o.taskTypeVocabSize > 0, task_type_vocab_size: Math.max(o.taskTypeVocabSize, 1) }
      : {}),
    classifier_dropout: config.model.dropout,
    ...(labels
      ? {
          id2label: Object.fromEntries(labels.map((name, i) => [String(i), name])),
          label2id: Object.fromEntries(labels.map((name, i) => [name, i])),
        }
      : {}),
    ...(layout.problemType && layout.architecture ? { problem_type: layout.problemType } : {}),
    alembic_task: config.task,
    ...(layout.noArchitecture
      ? {
          alembic_note: `no Hugging Face class matches this model: ${layout.noArchitecture}; AutoModel loads its encoder`,
        }
      : {}),
  };
}

/** The label names in id order (label_map.json, written by the task), or one "score" for a matcher. */
function readLabels(dir: string, layout: HfLayout): string[] | undefined {
  const file = path.join(dir, 'label_map.json');
  if (existsSync(file)) {
    const map = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    return Object.entries(map)
      .sort((a, b) => a[1] - b[1])
      .map(([name]) => name);
  }
  return layout.architecture?.endsWith('ForSequenceClassification') ? ['score'] : undefined;
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A model directory's weights under alembic's names, whichever layout it was written in: the older one
 * (model.safetensors in alembic's names) or the Hugging Face one (mapped back, plus the extra file).
 */
export function readModelWeights(dir: string): Map<string, Tensor> {
  const { tensors, metadata } = loadTensors(path.join(dir, HF_WEIGHTS_FILE));
  if (metadata.format !== 'pt' || metadata[PREFIX_KEY] === undefined) return tensors;
  const prefix = `${metadata[PREFIX_KEY]}.`;
  const renames = JSON.parse(metadata[RENAMES_KEY] ?? '{}') as Record<string, string>;
  const out = new Map<string, Tensor>();
  for (const [name, tensor] of tensors) {
    out.set(
      name.startsWith(prefix) ? `encoder.${name.slice(prefix.length)}` : (renames[name] ?? name),
      tensor,
    );
  }
  const extra = path.join(dir, EXTRA_WEIGHTS_FILE);
  if (existsSync(extra)) for (const [name, tensor] of loadTensors(extra).tensors) out.set(name, tensor);
  return out;
}
