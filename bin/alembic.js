#!/usr/bin/env node
// The alembic command. It runs the compiled dist/ when it is current — an installed package (no src/), or
// a checkout whose `npm run build` stamp is newer than every source file — because loading tsx and
// compiling the sources on every start costs seconds. A checkout with edited sources runs them through
// tsx, so it never runs a stale build; ALEMBIC_FROM_SOURCE=1 forces that.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, 'src', 'cli', 'main.ts');
const compiled = path.join(root, 'dist', 'cli', 'main.js');

/** The newest modification time under a folder (a few hundred stat calls: about a millisecond). */
function newestMtime(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : statSync(file).mtimeMs);
  }
  return newest;
}

function buildIsCurrent() {
  const stamp = path.join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp) || !existsSync(compiled)) return false;
  const built = statSync(stamp).mtimeMs;
  const inputs = ['tsconfig.json', 'tsconfig.build.json'].map((f) => path.join(root, f)).filter(existsSync);
  return Math.max(newestMtime(path.join(root, 'src')), ...inputs.map((f) => statSync(f).mtimeMs)) <= built;
}

if (existsSync(source) && (process.env.ALEMBIC_FROM_SOURCE === '1' || !buildIsCurrent())) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(compiled).href);
}
