/**
 * The task of a model or exported directory, restored from its manifest (vocabulary, labels, statistics),
 * without weights: what reads and formats examples, and — for the task families whose runtimes reuse the
 * task's own encoding and decoding (sequence labelling, matching, reading comprehension) — what turns
 * examples into model inputs. It loads libtorch (src/tasks imports the engine); the classification runtime
 * does not use it, so serving a classifier needs only onnxruntime.
 */
import path from 'node:path';
import { createTask, type AnyTask } from '../../tasks/registry.js';
import { parseConfig } from '../../config/run-config.js';
import { restoreConfig } from '../../train/model-dir.js';
import { MANIFEST_FILE, type DeployManifest } from './manifest.js';

export function restoreTask(manifest: DeployManifest, dir: string): AnyTask {
  // Paths inside were absolute when saved; the pretrained checkpoint is not needed to predict.
  const config = parseConfig(manifest.config, path.join(dir, MANIFEST_FILE), '/');
  return createTask(restoreConfig(config, dir), { dir, state: manifest.state });
}
