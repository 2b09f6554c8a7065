/**
 * Loads the libtorch addon. Everything numeric goes through this object; tensors are plain number
 * handles here and get their typed face in tensor.ts.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';

export type Handle = number;

/** The addon's functions, by name. Arguments follow libtorch's order; see native/src/addon.cc. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeEngine = Record<string, (...args: any[]) => any>;

function addonPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // src/engine or dist/engine → the package root is two levels up.
  const root = path.resolve(here, '..', '..');
  return path.join(root, 'native', 'build', 'Release', 'alembic_torch.node');
}

function load(): NativeEngine {
  const file = process.env.ALEMBIC_ADDON ?? addonPath();
  if (!existsSync(file)) {
    throw new UserError(
      `the libtorch addon is not built (${file} is missing): run \`npm run build:addon\` ` +
        '(on Debian after `apt-get install -y libtorch-dev libopenblas0-openmp`, or see scripts/setup.sh)',
    );
  }
  const require = createRequire(import.meta.url);
  return require(file) as NativeEngine;
}

/**
 * The addon, loaded on first use rather than on import: the CLI imports every command, and a machine that only
 * serves exported models (onnxruntime) must not need libtorch. Until then `native` has no functions of its
 * own and a lookup falls through to its prototype, which loads the addon and copies its functions onto
 * `native`; from then on lookups find them directly.
 */
let loaded: NativeEngine | undefined;

export const native: NativeEngine = Object.create(
  new Proxy(
    {},
    {
      get(_target, name) {
        if (!loaded) {
          loaded = load();
          Object.assign(native, loaded);
        }
        return loaded[name as string];
      },
    },
  ),
) as NativeEngine;
