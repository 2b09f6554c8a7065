/**
 * The package as a user installs it: `npm pack`, the tarball unpacked into a temporary project's
 * node_modules (its dependencies linked to this checkout's node_modules, so no network is needed), then a
 * plain-node child process imports `alembic`, trains a tiny model, predicts, and checks the shapes; a
 * TypeScript file in that project type-checks against the package's .d.ts through the `exports` map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tiny-data.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The newest modification time of the TypeScript sources, to tell whether dist/ is older than them. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(
      newest,
      e.isDirectory() ? newestSource(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0,
    );
  }
  return newest;
}

const CHILD = `
import { pipeline, train } from 'alembic';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Generated data: the label is the cue word a line holds.
const dir = path.resolve('work');
mkdirSync(dir, { recursive: true });
const cues = { good: ['great', 'lovely', 'fine'], bad: ['awful', 'poor', 'broken'] };
const filler = ['the', 'room', 'was', 'food', 'staff', 'very', 'and', 'view'];
let seed = 7; // mulberry32
const rand = (n) => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
};
const lines = (n) => Array.from({ length: n }, () => {
  const label = rand(2) ? 'good' : 'bad';
  const words = Array.from({ length: 3 + rand(4) }, () => filler[rand(filler.length)]);
  words.splice(rand(words.length), 0, cues[label][rand(3)]);
  return words.join(' ') + '\\t' + label;
}).join('\\n') + '\\n';
writeFileSync(path.join(dir, 'train.tsv'), lines(240));
writeFileSync(path.join(dir, 'dev.tsv'), lines(40));

const events = [];
const summary = await train(
  {
    config: {
      task: 'text_classification',
      dataset: { train: 'train.tsv', dev: 'dev.tsv', tokenizer: { type: 'whitespace' } },
      model: { net: 'bow', embedding_dim: 32, hidden_size: 32 },
      trainer: { epochs: 6, batch_size: 16, learning_rate: 0.01, threads: 1, output_dir: 'run' },
    },
    baseDir: dir,
  },
  { onProgress: (e) => events.push(e.type) },
);
const nlp = await pipeline(path.join(summary.outputDir, 'best'));
const one = await nlp('the staff was great');
const batch = await nlp(['awful food', 'a lovely view'], { topK: null });
await nlp.dispose();
process.stdout.write(JSON.stringify({ accuracy: summary.dev.accuracy, events: [...new Set(events)], one, batch }));
`;

const TYPED = `
import { pipeline, train, evaluate, exportModel, distill, dataDistill, advise, type TrainEvent, type LabelScore } from 'alembic';
const onProgress = (e: TrainEvent): string => {
  switch (e.type) {
    case 'step': return e.loss.toFixed(3) + ' ' + e.lr;
    case 'eval': return JSON.stringify(e.metrics);
    case 'checkpoint': return e.dir;
    case 'done': return String(e.interrupted);
  }
};
export async function use(dir: string): Promise<LabelScore[]> {
  await train('config.json', { onProgress, signal: AbortSignal.timeout(1000) });
  void [evaluate, exportModel, distill, dataDistill, advise];
  const nlp = await pipeline(dir);
  const r = (await nlp('text', { topK: 2 })) as LabelScore[];
  await nlp.dispose();
  return r;
}
`;

test('npm pack → install into a project → import { pipeline, train } from "alembic" → train, predict', async () => {
  const distIndex = path.join(root, 'dist', 'index.js');
  if (!existsSync(distIndex) || statSync(distIndex).mtimeMs < newestSource(path.join(root, 'src')))
    execFileSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

  const tmp = tempDir('alembic-packed-');
  const packed = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--pack-destination', tmp], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, npm_config_offline: 'true' },
    }),
  ) as { filename: string; files: { path: string }[] }[];
  const files = packed[0].files.map((f) => f.path);
  assert.ok(
    files.includes('dist/index.js') && files.includes('dist/index.d.ts'),
    'the tarball holds the API',
  );
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests shipped');

  const project = path.join(tmp, 'project');
  const pkgDir = path.join(project, 'node_modules', 'alembic');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(tmp, packed[0].filename), '-C', pkgDir, '--strip-components=1']);
  // Its dependencies, resolved from this checkout's installed node_modules: no registry is asked.
  symlinkSync(path.join(root, 'node_modules'), path.join(pkgDir, 'node_modules'), 'dir');
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'user', private: true, type: 'module' }),
  );
  writeFileSync(path.join(project, 'main.mjs'), CHILD);

  const out = execFileSync(process.execPath, ['main.mjs'], {
    cwd: project,
    encoding: 'utf8',
    // The libtorch addon is built per machine (npm run build:addon); this checkout's build is the one here.
    env: {
      ...process.env,
      ALEMBIC_ADDON: path.join(root, 'native', 'build', 'Release', 'alembic_torch.node'),
    },
  });
  const r = JSON.parse(out) as {
    accuracy: number;
    events: string[];
    one: { label: string; score: number }[];
    batch: { label: string; score: number }[][];
  };
  assert.ok(r.accuracy > 0.8, `dev accuracy ${r.accuracy}`);
  assert.deepEqual(r.events.sort(), ['checkpoint', 'done', 'eval', 'step']);
  assert.equal(r.one.length, 1);
  assert.equal(r.one[0].label, 'good');
  assert.ok(r.one[0].score > 0.5 && r.one[0].score <= 1);
  assert.equal(r.batch.length, 2);
  assert.deepEqual(
    r.batch.map((x) => x[0].label),
    ['bad', 'good'],
  );
  for (const x of r.batch) assert.ok(x.length === 2 && x[0].score >= x[1].score);

  // The .d.ts, found through package.json "exports" as a user's TypeScript resolves them.
  writeFileSync(path.join(project, 'use.ts'), TYPED);
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--typeRoots',
      path.join(root, 'node_modules', '@types'),
      '--types',
      'node',
      'use.ts',
    ],
    { cwd: project, stdio: 'inherit' },
  );
});
