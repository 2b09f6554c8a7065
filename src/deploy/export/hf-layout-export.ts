/**
 * `alembic export --layout hf`: the exported directory as Hugging Face's ONNX exports are laid out, so
 * transformers.js (`pipeline('text-classification', dir)`) and Optimum (`ORTModelForSequenceClassification`)
 * run it as they run their own:
 *   onnx/model.onnx          inputs input_ids, attention_mask, token_type_ids (int64 [batch, seq]); output
 *                            logits [batch, labels] (and alembic's probabilities beside it)
 *   config.json              model_type "bert", BertForSequenceClassification, id2label / label2id, problem_type
 *   tokenizer.json           the fast tokenizer that reproduces alembic's wordpiece ids (hf-tokenizer-json.ts)
 *   tokenizer_config.json    BertTokenizer, model_max_length = max_len
 * alembic-model.json (its onnx.file pointing into onnx/) and vocab.txt stay, so predict and serve load it too.
 *
 * Only the Transformer classifiers (text, text-pair, multi-label) with the wordpiece tokenizer and no numeric
 * features have this layout: HF's pipelines have no input for numeric features, no tokenizer.json model
 * reproduces alembic's char/jieba/word tokenisers, and the other tasks' graphs (CRF emissions, siamese pairs,
 * span logits windowed by alembic) need alembic's decoding; those keep alembic's layout.
 * The ONNX graph folds everything the encoder computes (ERNIE's task-type embeddings, mean pooling) into
 * the BERT input/output contract, so config.json names BertForSequenceClassification for any of them and
 * keeps the checkpoint's own type in `alembic_model_type`.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Vocab } from '../../data/vocab.js';
import { ClassifierModel } from '../../tasks/classification.js';
import { hfConfig, hfLayout, tokenizerConfig } from '../../train/hf-layout.js';
import type { LoadedModel } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';
import type { ExportableModel } from './task-exporter.js';
import { hfTokenizerJson } from './hf-tokenizer-json.js';

export const HF_MODEL_ONNX = 'onnx/model.onnx';

const CLASSIFICATION = new Set([
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
]);

/** Throws a UserError saying why `m` has no Hugging Face layout. */
export function checkHfExportable(m: ExportableModel): void {
  const refuse = (why: string) => {
    throw new UserError(`export --layout hf: ${why}; export it without --layout hf (alembic's layout)`);
  };
  const { task, net, config } = m.manifest;
  if (!CLASSIFICATION.has(task))
    refuse(`only Transformer classifiers have a Hugging Face ONNX layout, not ${task} models`);
  if (net !== 'transformer') refuse(`only the Transformer has a Hugging Face layout, not the ${net} net`);
  if (!(m.model instanceof ClassifierModel)) refuse(`not a classifier model`);
  if ((m.model as ClassifierModel).opts.numericSize > 0)
    refuse(
      'the model also reads numeric features (dataset.numeric_features), which HF pipelines cannot feed',
    );
  const tokenizer = config.dataset.tokenizer.type;
  if (tokenizer !== 'wordpiece')
    refuse(
      `the ${tokenizer} tokenizer has no tokenizer.json equivalent (train with dataset.tokenizer.type "wordpiece")`,
    );
}

/** Writes config.json, tokenizer.json and tokenizer_config.json for `loaded` into the export being built. */
export function writeHfExportFiles(dir: string, loaded: LoadedModel): void {
  const config = loaded.config;
  const layout = hfLayout(config, loaded.model);
  if (!layout) throw new Error('writeHfExportFiles: not a Transformer model');
  const problemType =
    config.task === 'multi_label_classification'
      ? 'multi_label_classification'
      : 'single_label_classification';
  const hf = {
    ...hfConfig(loaded.dir, config, layout),
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    problem_type: problemType,
    ...(layout.modelType !== 'bert' ? { alembic_model_type: layout.modelType } : {}),
  };
  delete (hf as Record<string, unknown>).alembic_note;
  const switches = config.dataset.tokenizer;
  const tokenizer = {
    ...tokenizerConfig(config),
    do_lower_case: switches.lowercase ?? true,
    strip_accents: switches.strip_accents ?? null,
    tokenize_chinese_chars: switches.tokenize_chinese_chars ?? true,
  };
  const vocab = Vocab.load(path.join(loaded.dir, 'vocab.txt'));
  const json = (name: string, value: unknown) =>
    writeFileSync(path.join(dir, name), JSON.stringify(value, null, 2) + '\n');
  json('config.json', hf);
  json('tokenizer_config.json', tokenizer);
  json('tokenizer.json', hfTokenizerJson(vocab, switches));
}
