/**
 * Masked-LM pre-training on unlabelled text (`alembic pretrain --config C`): trains the BERT-style
 * encoder with the masked-LM task through the ordinary trainer (checkpoints, resume, dev perplexity) in
 * `trainer.output_dir/training/`, then writes `trainer.output_dir` itself as a checkpoint directory in
 * Hugging Face's layout, ready to be any config's `model.pretrained_dir` (fine-tuning, distillation):
 *   config.json          BertConfig (model_type "bert", architectures ["BertForMaskedLM"])
 *   vocab.txt            the vocabulary, one token per line
 *   model.safetensors    `bert.*` encoder weights and the `cls.predictions.*` MLM head, HF names
 *   alembic-pretrain.json  how it was made: tokenizer (fine-tune with the same one), max_len, metrics
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { saveTensors } from '../engine/state-io.js';
import type { Tensor } from '../engine/tensor.js';
import { MaskedLmModel, type MaskedLmTask } from '../tasks/masked-lm.js';
import { isMainRank, withRunLock } from './data-parallel.js';
import { UserError } from '../util/errors.js';
import { latestCheckpoint } from './checkpoint.js';
import type { TrainConfig } from '../config/run-config.js';
import { bertShapeFields } from './hf-layout.js';
import { loadModelDir } from './model-dir.js';
import { train, type TrainOptions, type TrainSummary } from './trainer.js';

export const PRETRAIN_INFO_FILE = 'alembic-pretrain.json';

export interface PretrainSummary extends TrainSummary {
  /** The pretrained_dir written, or undefined when training stopped early (continue with resume). */
  pretrainedDir?: string;
}

/** The training config of a pre-training run: masked objective, training files under output_dir/training. */
export function pretrainingConfig(config: TrainConfig): TrainConfig {
  if (config.task !== 'language_model')
    throw new UserError(`task: pretrain takes a "language_model" config, not "${config.task}"`);
  if (config.model.net !== 'transformer')
    throw new UserError(
      `model.net: masked-LM pre-training is for the transformer, not "${config.model.net}"`,
    );
  return {
    ...config,
    language_model: { mask_prob: 0.15, ...config.language_model, objective: 'masked' },
    trainer: { ...config.trainer, output_dir: path.join(config.trainer.output_dir, 'training') },
  };
}

/** Pre-trains holding the lock on trainer.output_dir (the training itself locks output_dir/training too). */
export async function pretrainMaskedLm(
  config: TrainConfig,
  opts: TrainOptions = {},
): Promise<PretrainSummary> {
  return withRunLock(config.trainer.output_dir, () => pretrainLocked(config, opts));
}

async function pretrainLocked(config: TrainConfig, opts: TrainOptions): Promise<PretrainSummary> {
  const trainConfig = pretrainingConfig(config);
  assertPretrainOutput(config.trainer.output_dir);
  const summary: PretrainSummary = await train(trainConfig, opts);
  const trainingDir = trainConfig.trainer.output_dir;
  if (!isMainRank() || !finished(trainingDir)) return summary;
  exportPretrained(path.join(trainingDir, 'best'), config.trainer.output_dir, summary.dev);
  (opts.log ?? ((l: string) => process.stderr.write(l + '\n')))(
    `pretrained_dir: ${config.trainer.output_dir}`,
  );
  return { ...summary, pretrainedDir: config.trainer.output_dir };
}

/**
 * output_dir receives config.json, vocab.txt and model.safetensors at the end: files of those names that an
 * earlier pre-training did not write (no alembic-pretrain.json beside them) are the user's, so nothing starts.
 */
function assertPretrainOutput(outDir: string): void {
  if (existsSync(path.join(outDir, PRETRAIN_INFO_FILE))) return;
  const theirs = ['config.json', 'vocab.txt', 'model.safetensors'].filter((f) =>
    existsSync(path.join(outDir, f)),
  );
  if (theirs.length > 0) {
    throw new UserError(
      `${outDir}: holds ${theirs.join(', ')} not written by alembic pretrain, which would overwrite them ` +
        '(choose a trainer.output_dir of its own)',
    );
  }
}

/** Whether the newest checkpoint is the final one (the trainer marks it stopped). */
function finished(trainingDir: string): boolean {
  const last = latestCheckpoint(trainingDir);
  if (!last) return false;
  const state = JSON.parse(readFileSync(path.join(last, 'trainer_state.json'), 'utf8')) as {
    stopped?: boolean;
  };
  return state.stopped === true && existsSync(path.join(trainingDir, 'best'));
}

/** Writes a masked-LM alembic model directory as a Hugging Face BERT checkpoint directory. */
export function exportPretrained(modelDir: string, outDir: string, metrics?: Record<string, number>): void {
  const loaded = loadModelDir(modelDir);
  try {
    if (!(loaded.model instanceof MaskedLmModel))
      throw new UserError(
        `${modelDir}: not a masked-LM model (train it with language_model.objective "masked")`,
      );
    const o = loaded.model.bert.options;
    mkdirSync(outDir, { recursive: true });
    // The masked-LM encoder is built with the vocabulary's [PAD] as its padding index: pad_token_id.
    const bertConfig = { architectures: ['BertForMaskedLM'], model_type: 'bert', ...bertShapeFields(o) };
    writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(bertConfig, null, 2) + '\n');
    copyFileSync(path.join(modelDir, 'vocab.txt'), path.join(outDir, 'vocab.txt'));
    // BertForMaskedLM has no pooler; the one built alongside was never trained, so it is left out.
    const weights = new Map<string, Tensor>(
      [...loaded.model.stateDict()].filter(([name]) => !name.startsWith('bert.pooler.')),
    );
    saveTensors(path.join(outDir, 'model.safetensors'), weights, { format: 'pt' });
    const c = loaded.config;
    const info = {
      format: 'alembic-pretrain',
      tokenizer: c.dataset.tokenizer,
      max_len: c.dataset.max_len,
      mask_prob: (loaded.task as MaskedLmTask).maskProb,
      steps: loaded.manifest.info?.step,
      dev: metrics ?? loaded.manifest.info?.dev,
      created: new Date().toISOString(),
    };
    writeFileSync(path.join(outDir, PRETRAIN_INFO_FILE), JSON.stringify(info, null, 2) + '\n');
  } finally {
    loaded.model.dispose();
  }
}
