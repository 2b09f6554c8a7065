/**
 * A model directory: everything needed to predict, and nothing else.
 *   alembic-model.json   format marker, the training config, the task's state (labels, statistics)
 *   model.safetensors    the weights, by parameter name
 *   vocab.txt, label_map.json
 *   encoder_config.json  (models trained from a pretrained_dir) the checkpoint's architecture
 *   config.json, tokenizer_config.json, alembic-extra.safetensors   (Transformers) see hf-layout.ts
 * Written into a temporary directory and renamed into place, so a reader never sees half a model.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { disposeAll, saveTensors } from '../engine/state-io.js';
import type { Module } from '../engine/nn/module.js';
import { withCheckpointShape } from '../nets/build.js';
import { readBertConfig } from '../nets/checkpoint-names.js';
import { createTask, type AnyTask } from '../tasks/registry.js';
import type { TaskModel } from '../tasks/task.js';
import { UserError } from '../util/errors.js';
import { parseConfig, type TrainConfig } from '../config/run-config.js';
import { replaceDir, type DirKind } from '../util/replace-dir.js';
import { hfLayout, readModelWeights, writeHfModel } from './hf-layout.js';

export const MODEL_FILE = 'alembic-model.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const ENCODER_CONFIG_FILE = 'encoder_config.json';

export interface ModelManifest {
  format: 'alembic-model';
  version: 1;
  task: string;
  net: string;
  config: TrainConfig;
  state: unknown;
  parameters: number;
  created: string;
  /** Free-form facts about how the model was made (step, dev metrics, distillation stage…). */
  info?: Record<string, unknown>;
}

/** Writes the model files into `dir` (which must not be a live directory someone else writes). */
export function writeModelFiles(
  dir: string,
  config: TrainConfig,
  task: AnyTask,
  model: Module,
  info?: Record<string, unknown>,
  /** 'hf': a Transformer's weights under Hugging Face names, with config.json (see hf-layout.ts). */
  layout: 'alembic' | 'hf' = 'alembic',
): void {
  mkdirSync(dir, { recursive: true });
  task.save(dir);
  const hf = layout === 'hf' ? hfLayout(config, model) : undefined;
  if (hf) writeHfModel(dir, config, hf, model);
  else saveTensors(path.join(dir, WEIGHTS_FILE), model.stateDict(), { format: 'alembic' });
  // The Transformer's shape came from the checkpoint's config.json, not from the model section: keep a copy,
  // so the directory rebuilds the same network after the checkpoint has moved or gone.
  const architecture = config.model.encoder_config ?? config.model.pretrained_dir;
  if (architecture) copyFileSync(readBertConfig(architecture).source, path.join(dir, ENCODER_CONFIG_FILE));
  const manifest: ModelManifest = {
    format: 'alembic-model',
    version: 1,
    task: config.task,
    net: config.model.net,
    // The sizes of the network actually built (a checkpoint's shape replaces the template's).
    config: { ...config, model: withCheckpointShape(config.model) },
    state: task.state(),
    parameters: model.numParameters(),
    created: new Date().toISOString(),
    info,
  };
  writeFileSync(path.join(dir, MODEL_FILE), JSON.stringify(manifest, null, 2) + '\n');
}

/** A complete model directory: its manifest (written last) reads as one. */
export const MODEL_DIR: DirKind = {
  name: 'an alembic model directory',
  is: (dir) => {
    try {
      return readManifest(dir).format === 'alembic-model';
    } catch {
      return false;
    }
  },
};

export function saveModelDir(
  dir: string,
  config: TrainConfig,
  task: AnyTask,
  model: Module,
  info?: Record<string, unknown>,
): void {
  replaceDir(dir, MODEL_DIR, (tmp) => writeModelFiles(tmp, config, task, model, info, 'hf'));
}

export function readManifest(dir: string): ModelManifest {
  const file = path.join(dir, MODEL_FILE);
  if (!existsSync(file)) throw new UserError(`${dir}: not an alembic model directory (no ${MODEL_FILE})`);
  let m: ModelManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (m.format !== 'alembic-model') throw new UserError(`${file}: format: expected "alembic-model"`);
  return m;
}

export interface LoadedModel {
  dir: string;
  manifest: ModelManifest;
  /** The config that rebuilds this model (restoreConfig: no pretrained_dir, its architecture kept). */
  config: TrainConfig;
  task: AnyTask;
  model: TaskModel<unknown>;
}

/** Restores task and model from a model directory (weights copied in; ready for eval/predict). */
export function loadModelDir(dir: string): LoadedModel {
  const manifest = readManifest(dir);
  if ('onnx' in manifest && !existsSync(path.join(dir, WEIGHTS_FILE))) {
    throw new UserError(
      `${dir}: an exported directory (ONNX, from alembic export) without torch weights: predict, serve and ` +
        `bench take it as is; for this command give the trained model directory it was exported from ` +
        `(e.g. <output_dir>/best)`,
    );
  }
  // Paths inside were absolute when saved; validation only re-checks the shape of the config.
  const config = restoreConfig(parseConfig(manifest.config, path.join(dir, MODEL_FILE), '/'), dir);
  const task = createTask(config, { dir, state: manifest.state });
  const model = task.buildModel();
  const tensors = readModelWeights(dir);
  try {
    model.loadStateDict(tensors, { source: path.join(dir, WEIGHTS_FILE) });
  } finally {
    disposeAll(tensors);
  }
  model.eval();
  return { dir, manifest, config, task, model };
}

/**
 * The config that rebuilds a saved model without its training-time inputs: a pretrained_dir was only needed
 * to initialise training (the weights are in model.safetensors now), but its architecture still decides the
 * network's shape, so it comes from the directory's copy of the checkpoint's config.json (and is written into
 * the model section's sizes).
 */
export function restoreConfig(config: TrainConfig, dir: string): TrainConfig {
  const copy = path.join(dir, ENCODER_CONFIG_FILE);
  return {
    ...config,
    model: withCheckpointShape({
      ...config.model,
      pretrained_dir: undefined,
      encoder_config: existsSync(copy) ? copy : config.model.encoder_config,
    }),
  };
}
