/**
 * Which files of a pretrained checkpoint directory hold its weights, in the formats checkpoints ship in:
 * `model.safetensors` (or shards listed by `model.safetensors.index.json`), PyTorch's `pytorch_model.bin`
 * (or shards listed by `pytorch_model.bin.index.json`), and PaddlePaddle's `model_state.pdparams`. A hub
 * directory often carries the same weights twice (safetensors and .bin); the first format found in that
 * order is used and the others are left alone, so nothing is loaded twice.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pdparamsSource } from '../engine/pdparams.js';
import { safetensorsSource, type TensorSource } from '../engine/tensor-source.js';
import { torchZipSource } from '../engine/torch-zip.js';
import { InputError, UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';

const SAFETENSORS_INDEX = 'model.safetensors.index.json';
const TORCH_INDEX = 'pytorch_model.bin.index.json';
const TORCH_FILE = 'pytorch_model.bin';

function sourceFor(file: string): TensorSource {
  if (file.endsWith('.safetensors')) return safetensorsSource(file);
  if (file.endsWith('.pdparams')) return pdparamsSource(file);
  return torchZipSource(file);
}

/** The shard files an index's `weight_map` names, each once, in sorted order; all must exist. */
export function shardsOfIndex(indexFile: string): string[] {
  const json = readJsonFile(indexFile, 'checkpoint index') as { weight_map?: unknown };
  const map = json?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new InputError(
      { file: indexFile, field: 'weight_map' },
      'must be an object of tensor name → shard file',
    );
  const files = new Set<string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.'))
      throw new InputError(
        { file: indexFile, field: `weight_map.${name}` },
        `${JSON.stringify(shard)} is not a file name`,
      );
    files.add(shard);
  }
  if (files.size === 0) throw new InputError({ file: indexFile, field: 'weight_map' }, 'lists no shards');
  const dir = path.dirname(indexFile);
  return [...files].sort().map((f) => {
    const file = path.join(dir, f);
    if (!existsSync(file))
      throw new InputError({ file: indexFile, field: 'weight_map' }, `shard ${f} is missing`);
    return file;
  });
}

/** The weight files of a checkpoint directory, in the first format it has. */
export function checkpointFiles(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir);
  } catch {
    throw new UserError(`${dir}: cannot read the pretrained checkpoint directory`);
  }
  const has = (f: string) => names.includes(f);
  const all = (ext: string) =>
    names
      .filter((f) => f.endsWith(ext))
      .sort()
      .map((f) => path.join(dir, f));
  if (has(SAFETENSORS_INDEX)) return shardsOfIndex(path.join(dir, SAFETENSORS_INDEX));
  if (all('.safetensors').length) return all('.safetensors');
  if (has(TORCH_INDEX)) return shardsOfIndex(path.join(dir, TORCH_INDEX));
  if (has(TORCH_FILE)) return [path.join(dir, TORCH_FILE)];
  if (all('.pdparams').length) return all('.pdparams');
  throw new UserError(
    `${dir}: no weights in the pretrained checkpoint directory (looked for *.safetensors, ${SAFETENSORS_INDEX}, ` +
      `${TORCH_FILE}, ${TORCH_INDEX}, *.pdparams)`,
  );
}

/** Opens every weight file of a checkpoint directory. */
export function openCheckpoint(dir: string): TensorSource[] {
  return checkpointFiles(dir).map(sourceFor);
}
