// bin/alembic.js runs the compiled dist/ when `npm run build`'s stamp is newer than every source file,
// and the TypeScript sources through tsx otherwise (or when there is no build, or when asked to).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/tiny-data.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

/** A checkout in miniature: the real bin/alembic.js, a main.ts and a main.js that say which one ran. */
function fakeCheckout(): {
  root: string;
  run: (env?: NodeJS.ProcessEnv) => string;
  touch: (f: string, t: number) => void;
} {
  const root = tempDir('alembic-startup-');
  mkdirSync(path.join(root, 'bin'));
  mkdirSync(path.join(root, 'src', 'cli'), { recursive: true });
  mkdirSync(path.join(root, 'dist', 'cli'), { recursive: true });
  copyFileSync(path.join(repo, 'bin', 'alembic.js'), path.join(root, 'bin', 'alembic.js'));
  writeFileSync(path.join(root, 'package.json'), '{"type":"module"}\n');
  symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
  writeFileSync(
    path.join(root, 'src', 'cli', 'main.ts'),
    "const from: string = 'source';\nconsole.log(from);\n",
  );
  writeFileSync(path.join(root, 'dist', 'cli', 'main.js'), "console.log('dist');\n");
  const touch = (f: string, t: number) => utimesSync(path.join(root, f), t, t);
  const run = (env: NodeJS.ProcessEnv = {}) =>
    execFileSync(process.execPath, [path.join(root, 'bin', 'alembic.js')], {
      encoding: 'utf8',
      env: { ...process.env, ALEMBIC_FROM_SOURCE: '', ...env },
    }).trim();
  return { root, run, touch };
}

test('bin/alembic.js runs dist/ when the build stamp is current and the sources otherwise', () => {
  const c = fakeCheckout();
  const old = Date.now() / 1000 - 3600;
  for (const f of ['src/cli/main.ts', 'src/cli', 'src']) c.touch(f, old);
  // No stamp: never built by `npm run build`, so the sources run.
  assert.equal(c.run(), 'source');
  writeFileSync(path.join(c.root, 'dist', '.build-stamp'), 'now\n');
  assert.equal(c.run(), 'dist');
  assert.equal(c.run({ ALEMBIC_FROM_SOURCE: '1' }), 'source');
  // A source edited after the build: the build is stale.
  c.touch('src/cli/main.ts', Date.now() / 1000 + 60);
  assert.equal(c.run(), 'source');
  // An installed package has no src/: dist/ runs.
  rmSync(path.join(c.root, 'src'), { recursive: true });
  assert.equal(c.run(), 'dist');
});
