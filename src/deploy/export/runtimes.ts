/**
 * Task name → how to feed its exported graph and turn the outputs into the task's predictions (the serving
 * half of exporter.ts; it needs no libtorch). A task family that adds an exporter adds its runtime here.
 */
import { UserError } from '../../util/errors.js';
import { classificationRuntime } from './classification-io.js';
import type { DeployManifest } from './manifest.js';
import type { AnyRuntime } from './task-runtime.js';

type MakeRuntime = (manifest: DeployManifest, dir: string) => AnyRuntime;

/**
 * Loaded on demand: classification's runtime needs only onnxruntime; the others reuse their task's encoding
 * and decoding and so load libtorch (restore-task.ts), which a classifier's server should not pay for.
 */
const RUNTIMES: Record<string, () => Promise<MakeRuntime>> = {
  text_classification: async () => classificationRuntime,
  text_pair_classification: async () => classificationRuntime,
  multi_label_classification: async () => classificationRuntime,
  sequence_labeling: async () => (await import('./sequence-labeling-io.js')).sequenceLabelingRuntime,
  text_matching: async () => (await import('./matching-io.js')).matchingRuntime,
  reading_comprehension: async () =>
    (await import('./reading-comprehension-io.js')).readingComprehensionRuntime,
};

export async function runtimeFor(manifest: DeployManifest, dir: string): Promise<AnyRuntime> {
  const load = RUNTIMES[manifest.task];
  if (!load) throw new UserError(`${dir}: no ONNX runtime for task "${manifest.task}"`);
  return (await load())(manifest, dir);
}
