/**
 * Reading a directory's alembic-model.json without the training stack (model-dir.ts loads libtorch), so
 * serving an exported model needs only onnxruntime. An exported directory's manifest is the trained one
 * plus the `onnx` section.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelManifest } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';
import type { DirKind } from '../../util/replace-dir.js';
import type { OnnxSection } from './io.js';

export const MANIFEST_FILE = 'alembic-model.json';

export interface DeployManifest extends ModelManifest {
  onnx?: OnnxSection;
}

export function readDeployManifest(dir: string): DeployManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file)) throw new UserError(`${dir}: not an alembic model directory (no ${MANIFEST_FILE})`);
  let m: DeployManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as DeployManifest;
  } catch (e) {
    throw new UserError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (m.format !== 'alembic-model') throw new UserError(`${file}: format: expected "alembic-model"`);
  if (m.onnx !== undefined && (typeof m.onnx.file !== 'string' || !Array.isArray(m.onnx.inputs))) {
    throw new UserError(`${file}: onnx: expected {file, opset, int8, inputs, outputs}`);
  }
  return m;
}

/** An exported directory (its manifest, written last, has the onnx section): what `export --out` may replace. */
export const EXPORT_DIR: DirKind = {
  name: 'an alembic export (alembic-model.json with an onnx section)',
  is: (dir) => {
    try {
      return readDeployManifest(dir).onnx !== undefined;
    } catch {
      return false;
    }
  },
};
