// Builds the libtorch addon (native/build/Release/alembic_torch.node) with the project's node-gyp.
// npm 11 does not run dependencies' install scripts, so setup and CI call this explicitly.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');

const args = [nodeGyp, 'rebuild', `--jobs=${process.env.JOBS ?? 'max'}`];
// Build against the headers of the node that runs us when they are installed locally, so node-gyp
// never tries to download them (there may be no network).
const localHeaders = path.resolve(process.execPath, '../../include/node/node_api.h');
if (existsSync(localHeaders)) args.push(`--nodedir=${path.resolve(process.execPath, '../..')}`);

const libtorch = process.env.LIBTORCH ?? '/usr (Debian libtorch-dev)';
console.log(`alembic: building the libtorch addon against ${libtorch}`);
const r = spawnSync(process.execPath, args, { cwd: path.join(root, 'native'), stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    'alembic: the addon did not build. On Debian run `apt-get install -y libtorch-dev libopenblas0-openmp`;\n' +
      'elsewhere set LIBTORCH to a libtorch directory (with include/ and lib/), e.g. a pip torch package.',
  );
  process.exit(r.status ?? 1);
}
