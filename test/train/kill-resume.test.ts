import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { latestCheckpoint } from '../../src/train/checkpoint.js';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { LOCK_FILE } from '../../src/util/dir-lock.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin/alembic.js');
const KILLS = 8;
/** The first runs die between the two renames of a replacement: best/ (new, then existing), a checkpoint. */
const FAULTS = ['best:1', 'step_:3', 'best:1'];
/** Longest wait after the run has logged its model line before the kill (random below it). */
const MAX_DELAY_MS = 900;

/** A config writing a checkpoint every step and best/ every other step: most moments are inside a write. */
function writeConfig(dir: string, files: { train: string; dev: string }): string {
  const raw = {
    task: 'text_classification',
    dataset: { train: files.train, dev: files.dev, max_len: 16 },
    model: { net: 'cnn', embedding_dim: 8, num_filters: 4 },
    trainer: {
      epochs: 6,
      batch_size: 8,
      learning_rate: 0.01,
      eval_step: 2,
      save_model_step: 1,
      train_log_step: 1,
      threads: 1,
      output_dir: path.join(dir, 'run'),
    },
  };
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(raw));
  return file;
}

/**
 * Runs `alembic train --resume` and SIGKILLs it `delay` ms after it logs its model line (null: never), or
 * lets it kill itself between the renames of a replacement (`fault`: see ALEMBIC_FAULT_REPLACE).
 */
function runOnce(
  config: string,
  delay: number | null,
  fault?: string,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'train', '-c', config, '--resume', '--quiet'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: fault ? { ...process.env, ALEMBIC_FAULT_REPLACE: fault } : process.env,
    });
    let stderr = '';
    let armed = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (delay !== null && !armed && /model: /.test(stderr)) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delay);
      }
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** What a kill left half done: temporary and old directories of replacements, and the lock. */
function leftovers(out: string): string[] {
  const names = existsSync(out) ? readdirSync(out) : [];
  const ckpt = path.join(out, 'checkpoints');
  const inCkpt = existsSync(ckpt) ? readdirSync(ckpt).map((n) => `checkpoints/${n}`) : [];
  return [...names, ...inCkpt].filter((n) => /\.(tmp|old)-\d+$/.test(n) || n === LOCK_FILE);
}

test(`kill -9 at random moments ${KILLS} times, resuming each time: the result is bit-identical`, async (t) => {
  const dir = tempDir('alembic-kill-');
  const files = writeSentimentSplits(dir, { train: 80, dev: 16, test: 0 });

  const refDir = path.join(dir, 'reference');
  const refConfig = JSON.parse(readFileSync(writeConfig(dir, files), 'utf8'));
  refConfig.trainer.output_dir = refDir;
  await train(parseConfig(refConfig, path.join(dir, 'reference.json')), { quiet: true, log: () => {} });

  const config = writeConfig(dir, files);
  const out = path.join(dir, 'run');
  const rng = new Rng(18);
  let killed = 0;
  let insideWrites = 0;
  let finished = false;
  for (let trial = 0; trial < KILLS && !finished; trial++) {
    const fault = FAULTS[trial];
    const r = fault
      ? await runOnce(config, null, fault)
      : await runOnce(config, Math.floor(rng.next() * MAX_DELAY_MS));
    assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
    if (r.code === 0) finished = true;
    else {
      assert.equal(r.code, null, r.stderr);
      killed++;
      const left = leftovers(out);
      if (left.some((n) => n !== LOCK_FILE)) insideWrites++;
      const step = latestCheckpoint(out);
      t.diagnostic(
        `kill ${killed}${fault ? ` (${fault})` : ''}: newest checkpoint ${step && path.basename(step)}; left ${left.join(', ')}`,
      );
    }
  }
  const last = await runOnce(config, null);
  assert.equal(last.code, 0, last.stderr);
  assert.doesNotMatch(last.stderr, /\n\s+at /);
  t.diagnostic(`${killed} kills, ${insideWrites} of them inside a replacement of best/ or a checkpoint`);
  assert.ok(killed >= KILLS / 2, `only ${killed} of the runs were killed before finishing`);

  // The same weights, optimizer state and log as the run never interrupted; nothing left behind.
  const same = (rel: string) =>
    assert.ok(
      readFileSync(path.join(out, rel)).equals(readFileSync(path.join(refDir, rel))),
      `${rel} differs from the uninterrupted run`,
    );
  same('best/model.safetensors');
  const final = path.basename(latestCheckpoint(refDir)!);
  assert.equal(path.basename(latestCheckpoint(out)!), final);
  same(`checkpoints/${final}/model.safetensors`);
  same(`checkpoints/${final}/optimizer.safetensors`);
  same('metrics.jsonl');
  assert.deepEqual(leftovers(out), []);
});
