import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMetricsLog } from '../../src/train/trainer.js';
import { LOCK_FILE, lockDir, withDirLock, type LockHolder } from '../../src/util/dir-lock.js';
import { UserError } from '../../src/util/errors.js';
import { deadPid } from '../helpers/dead-pid.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin/alembic.js');

function writeHolder(dir: string, holder: Partial<LockHolder>): void {
  mkdirSync(dir, { recursive: true });
  const full = {
    pid: 1,
    host: os.hostname(),
    command: 'alembic train -c other.json',
    since: '2026-01-01',
    ...holder,
  };
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(full));
}

function refusedWith(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UserError && pattern.test(e.message));
}

test('the lock file names this process, is taken again by it, and is removed on release', () => {
  const dir = path.join(tempDir(), 'out');
  const lock = lockDir(dir, 'alembic train -c a.json');
  const holder = JSON.parse(readFileSync(lock.file, 'utf8')) as LockHolder;
  assert.equal(holder.pid, process.pid);
  assert.equal(holder.host, os.hostname());
  assert.equal(holder.command, 'alembic train -c a.json');
  assert.ok(!Number.isNaN(Date.parse(holder.since)));
  const again = lockDir(dir);
  again.release();
  assert.ok(existsSync(lock.file), 'still held by the outer taker');
  lock.release();
  assert.ok(!existsSync(lock.file));
});

test('a live holder is named in a one-line UserError; its lock is left alone', () => {
  const dir = path.join(tempDir(), 'out');
  writeHolder(dir, {
    pid: process.ppid,
    command: 'alembic distill -c d.json',
    since: '2026-12-01T10:00:00Z',
  });
  const before = readFileSync(path.join(dir, LOCK_FILE), 'utf8');
  refusedWith(
    () => lockDir(dir),
    new RegExp(
      `in use by another run \\(pid ${process.ppid} on ${os.hostname()}, "alembic distill -c d.json", ` +
        'since 2026-12-01T10:00:00Z\\)',
    ),
  );
  assert.equal(readFileSync(path.join(dir, LOCK_FILE), 'utf8'), before);
});

test('a stale lock (a dead process on this host) is taken over with a note on stderr', async () => {
  const dir = path.join(tempDir(), 'out');
  const dead = deadPid();
  writeHolder(dir, { pid: dead });
  const notes: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => notes.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    await withDirLock(dir, () => {
      assert.equal(
        (JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as LockHolder).pid,
        process.pid,
      );
    });
  } finally {
    process.stderr.write = write;
  }
  assert.equal(notes.length, 1);
  assert.match(notes[0], new RegExp(`taking over the lock of a run that is gone \\(pid ${dead}`));
  assert.ok(!existsSync(path.join(dir, LOCK_FILE)));
});

test('a lock from another host is not second-guessed', () => {
  const dir = path.join(tempDir(), 'out');
  writeHolder(dir, { pid: deadPid(), host: 'some-other-host' });
  refusedWith(() => lockDir(dir), /in use by another run .* on some-other-host/);
});

test('the lock is released when the work throws', async () => {
  const dir = path.join(tempDir(), 'out');
  await assert.rejects(
    withDirLock(dir, () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.ok(!existsSync(path.join(dir, LOCK_FILE)));
});

test('an output_dir that is a file, under a file or not writable is refused before anything is read', () => {
  const dir = tempDir();
  const file = path.join(dir, 'a-file');
  writeFileSync(file, 'x');
  refusedWith(() => lockDir(file), /a-file: is a file, not a directory/);
  refusedWith(() => lockDir(path.join(file, 'run')), /cannot be created: .*a-file is a file/);
  if (process.getuid?.() !== 0) {
    const ro = path.join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    refusedWith(() => lockDir(path.join(ro, 'run')), /ro is not writable/);
  }

  // Through the CLI: the data file does not exist either, and the output problem is the one reported.
  const config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      task: 'text_classification',
      dataset: { train: path.join(dir, 'missing.tsv') },
      model: { net: 'bow' },
      trainer: { output_dir: path.join(file, 'run') },
    }),
  );
  const r = spawnSync(process.execPath, [BIN, 'train', '-c', config, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^alembic: .*a-file\/run: cannot be created: .*a-file is a file\n$/);
});

function trainingConfig(dir: string, epochs: number): string {
  const files = writeSentimentSplits(dir, { train: 64, dev: 16, test: 0 });
  const file = path.join(dir, `config-${epochs}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: 16 },
      model: { net: 'bow', embedding_dim: 8 },
      trainer: {
        epochs,
        batch_size: 8,
        eval_step: 4,
        save_model_step: 4,
        train_log_step: 4,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    }),
  );
  return file;
}

/** `alembic train` in a child process; `started` resolves once it has logged its model line (lock held). */
function startTraining(config: string) {
  const child = spawn(process.execPath, [BIN, 'train', '-c', config, '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (/model: /.test(stderr)) resolve();
    });
    void exited.then(() => reject(new Error(`ended before training: ${stderr}`)));
  });
  return { child, started, exited, stderr: () => stderr };
}

test('two trainings on one output_dir: the second is refused naming the first, which completes', async () => {
  const dir = tempDir();
  const run1 = startTraining(trainingConfig(dir, 10));
  const first = run1.child;
  await run1.started;
  // Paused (alive, holding the lock) while the second starts, so the outcome does not depend on timing.
  first.kill('SIGSTOP');
  const second = spawnSync(process.execPath, [BIN, 'train', '-c', trainingConfig(dir, 1), '--quiet'], {
    encoding: 'utf8',
  });
  first.kill('SIGCONT');
  assert.equal(second.status, 2, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `^alembic: .*run: in use by another run \\(pid ${first.pid} on ${os.hostname()}, "alembic train -c .*config-10.json --quiet", since `,
    ),
  );
  assert.equal(second.stderr.trim().split('\n').length, 1);
  assert.equal((await run1.exited).code, 0, run1.stderr());
  const run = path.join(dir, 'run');
  assert.ok(!existsSync(path.join(run, LOCK_FILE)));
  const steps = readMetricsLog(path.join(run, 'metrics.jsonl'))
    .filter((e) => e.type === 'train')
    .map((e) => Number(e.step));
  assert.deepEqual(
    steps,
    Array.from({ length: 20 }, (_, i) => 4 * (i + 1)),
    "one run's log, in order",
  );
  assert.equal(
    (
      JSON.parse(readFileSync(path.join(run, 'best', 'alembic-model.json'), 'utf8')) as {
        config: { trainer: { epochs: number } };
      }
    ).config.trainer.epochs,
    10,
  );
});

test('SIGTERM during training releases the lock (the trainer stops at a checkpoint)', async () => {
  const dir = tempDir();
  const run = startTraining(trainingConfig(dir, 200));
  await run.started;
  await new Promise((r) => setTimeout(r, 300));
  run.child.kill('SIGTERM');
  assert.equal((await run.exited).signal, 'SIGTERM', run.stderr());
  assert.match(run.stderr(), /continue with --resume/);
  assert.ok(!existsSync(path.join(dir, 'run', LOCK_FILE)));
});
test('output_dir "." next to the config file is refused: training would overwrite config.json', () => {
  const dir = tempDir();
  const files = writeSentimentSplits(dir, { train: 20, dev: 0, test: 0 });
  const config = path.join(dir, 'config.json');
  const text = JSON.stringify({
    task: 'text_classification',
    dataset: { train: files.train },
    model: { net: 'bow' },
    trainer: { output_dir: '.' },
  });
  writeFileSync(config, text);
  const r = spawnSync(process.execPath, [BIN, 'train', '-c', config, '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^alembic: .*: holds config.json but no training run; training would overwrite it/);
  assert.equal(readFileSync(config, 'utf8'), text);
  assert.ok(!existsSync(path.join(dir, LOCK_FILE)));
});
