import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportModelDir } from '../../../src/deploy/export/export-dir.js';
import { parseConfig } from '../../../src/config/run-config.js';
import { train } from '../../../src/train/trainer.js';
import { LOCK_FILE } from '../../../src/util/dir-lock.js';
import { UserError } from '../../../src/util/errors.js';
import { snapshot } from '../../helpers/dir-snapshot.js';
import { tempDir, writeSentimentSplits } from '../../helpers/tiny-data.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
const dir = tempDir('alembic-export-out-');
const run = path.join(dir, 'run');
const model = path.join(run, 'best');

before(async () => {
  const files = writeSentimentSplits(dir, { train: 60, dev: 20, test: 0 });
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: 16 },
      model: { net: 'bow', embedding_dim: 8 },
      trainer: { epochs: 1, batch_size: 16, eval_step: 2, save_model_step: 2, threads: 1, output_dir: run },
    },
    path.join(dir, 'config.json'),
  );
  await train(config, { quiet: true, log: () => {} });
});

async function refused(out: string, pattern: RegExp, opts: { force?: boolean } = {}): Promise<void> {
  await assert.rejects(exportModelDir(model, out, opts), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, pattern);
    return true;
  });
}

test('export refuses a folder with other files in it, and leaves every file as it was', async () => {
  const out = path.join(dir, 'mine');
  mkdirSync(path.join(out, 'sub'), { recursive: true });
  writeFileSync(path.join(out, 'notes.txt'), 'my notes\n');
  writeFileSync(path.join(out, 'sub', 'data.bin'), Buffer.from([0, 1, 2, 255]));
  const before = snapshot(out);
  await refused(out, /holds files and is not an alembic export/);
  assert.deepEqual(snapshot(out), before);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('mine.')),
    [],
  );
});

test('export refuses a regular file as --out, and leaves it as it was', async () => {
  const out = path.join(dir, 'a-file.onnx');
  writeFileSync(out, 'not a directory\n');
  await refused(out, /is a file/);
  assert.deepEqual(snapshot(out), new Map([['', Buffer.from('not a directory\n').toString('base64')]]));
});

test('export --out <the training run> is refused, with or without --force; the run is untouched', async () => {
  const before = snapshot(run);
  await refused(run, /is or contains the model being exported/);
  await refused(run, /is or contains the model being exported/, { force: true });
  await refused(model, /is or contains the model being exported/, { force: true });
  await refused(dir, /is or contains the model being exported/, { force: true });
  assert.deepEqual(snapshot(run), before);
  for (const f of ['best', 'checkpoints', 'metrics.jsonl', 'report.html'])
    assert.ok(existsSync(path.join(run, f)));
});

test('an earlier export is replaced; --force replaces a folder that is not one', async () => {
  const out = path.join(dir, 'exported');
  await exportModelDir(model, out);
  writeFileSync(path.join(out, 'stale.txt'), 'from before\n');
  await exportModelDir(model, out);
  assert.ok(!existsSync(path.join(out, 'stale.txt')), 'the earlier export was replaced as a whole');
  assert.ok(existsSync(path.join(out, 'model.onnx')));
  assert.ok(!existsSync(path.join(out, LOCK_FILE)), 'the lock is released');

  const other = path.join(dir, 'scratch');
  mkdirSync(other);
  writeFileSync(path.join(other, 'old.txt'), 'x');
  await exportModelDir(model, other, { force: true });
  assert.deepEqual(readdirSync(other).sort(), [
    'alembic-model.json',
    'label_map.json',
    'model.onnx',
    'vocab.txt',
  ]);
});

test('export into a directory another live run holds is refused, naming the holder', async () => {
  const out = path.join(dir, 'held');
  await exportModelDir(model, out);
  const holder = {
    pid: process.ppid,
    host: os.hostname(),
    command: 'alembic export -m x -o held',
    since: 'now',
  };
  writeFileSync(path.join(out, LOCK_FILE), JSON.stringify(holder));
  await refused(
    out,
    new RegExp(`in use by another run \\(pid ${process.ppid} on ${os.hostname()}, "alembic export`),
  );
  assert.ok(existsSync(path.join(out, 'model.onnx')));
});

test('the CLI refuses in one line with exit code 2 and deletes nothing', () => {
  const out = path.join(dir, 'cli-mine');
  mkdirSync(out);
  writeFileSync(path.join(out, 'keep.txt'), 'keep me\n');
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'bin/alembic.js'), 'export', '-m', model, '-o', out],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^alembic: .*cli-mine: holds files and is not an alembic export/);
  assert.deepEqual(readdirSync(out), ['keep.txt']);
});
