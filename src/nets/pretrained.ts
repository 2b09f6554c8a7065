/**
 * Loads a BERT/ERNIE checkpoint directory (config.json + vocab.txt + *.safetensors) into a
 * TransformerEncoder by name, transposing Paddle-layout Linear weights. Every encoder parameter must
 * be found with the right shape; heads the checkpoint carries (MLM, NSP) are ignored.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { noGrad, tidy } from '../engine/scope.js';
import { readSafetensorsHeader } from '../engine/safetensors.js';
import { disposeAll, loadTensors } from '../engine/state-io.js';
import type { Tensor } from '../engine/tensor.js';
import { UserError } from '../util/errors.js';
import { mapCheckpoint } from './checkpoint-names.js';
import type { TransformerEncoder } from './transformer.js';

export function checkpointFiles(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  } catch {
    throw new UserError(`${dir}: cannot read the pretrained checkpoint directory`);
  }
  if (files.length === 0)
    throw new UserError(`${dir}: no *.safetensors file in the pretrained checkpoint directory`);
  return files.sort().map((f) => path.join(dir, f));
}

/** Copies the checkpoint's weights into `encoder`; returns the names it ignored. */
export function loadPretrained(
  encoder: TransformerEncoder,
  dir: string,
): { loaded: number; ignored: string[] } {
  const own = encoder.stateDict();
  const found = new Set<string>();
  const ignored: string[] = [];
  for (const file of checkpointFiles(dir)) {
    const names = [...readSafetensorsHeader(file).entries.keys()];
    const { mapping, ignored: skip } = mapCheckpoint(names, file);
    ignored.push(...skip);
    const { tensors } = loadTensors(file, [...mapping.keys()]);
    try {
      noGrad(() => {
        for (const [name, value] of tensors) {
          const { target, transpose } = mapping.get(name)!;
          const dst = own.get(target);
          if (!dst) {
            ignored.push(name);
            continue;
          }
          tidy(() => {
            const src: Tensor = transpose ? value.transpose(0, 1) : value;
            const want = dst.shape.join('x');
            const got = src.shape.join('x');
            if (want !== got)
              throw new UserError(
                `${file}: ${name}: shape ${got} does not match the model's ${target} ${want}`,
              );
            dst.copy_(src.to(dst.dtype));
          });
          found.add(target);
        }
      });
    } finally {
      disposeAll(tensors);
    }
  }
  const missing = [...own.keys()].filter((k) => !found.has(k) && !k.startsWith('pooler.'));
  if (missing.length) {
    throw new UserError(
      `${dir}: the checkpoint lacks ${missing.length} encoder weights, e.g. ${missing.slice(0, 3).join(', ')}`,
    );
  }
  return { loaded: found.size, ignored };
}
