import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { parseConfig, type TrainConfig } from '../../src/config/run-config.js';
import { MODEL_DIR } from '../../src/train/model-dir.js';
import { readMetricsLog, train } from '../../src/train/trainer.js';
import { UserError } from '../../src/util/errors.js';
import { replaceDir } from '../../src/util/replace-dir.js';
import { deadPid } from '../helpers/dead-pid.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

function config(dir: string): TrainConfig {
  const files = writeSentimentSplits(dir, { train: 60, dev: 20, test: 0 });
  return parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: 16 },
      model: { net: 'bow', embedding_dim: 8 },
      trainer: {
        epochs: 2,
        batch_size: 16,
        eval_step: 2,
        save_model_step: 2,
        train_log_step: 1,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
}

const quiet = { quiet: true, log: () => {} };

async function finishedRun(): Promise<{ c: TrainConfig; out: string }> {
  const c = config(tempDir());
  await train(c, quiet);
  return { c, out: c.trainer.output_dir };
}

test('a crash between the renames of best/ is rolled back on resume (the new copy was incomplete)', async () => {
  const { c, out } = await finishedRun();
  const best = path.join(out, 'best');
  const weights = readFileSync(path.join(best, 'model.safetensors'));
  const dead = deadPid();
  // best/ renamed away, the new one half written (no manifest yet): the state a kill leaves.
  renameSync(best, `${best}.old-${dead}`);
  mkdirSync(`${best}.tmp-${dead}`);
  writeFileSync(path.join(`${best}.tmp-${dead}`, 'model.safetensors'), 'half');
  const lines: string[] = [];
  await train(c, { quiet: true, resume: true, log: (l) => lines.push(l) });
  assert.deepEqual(readFileSync(path.join(best, 'model.safetensors')), weights);
  assert.deepEqual(
    readdirSync(out).filter((n) => n.startsWith('best.')),
    [],
  );
  assert.ok(
    lines.some((l) => l.includes(`restored from best.old-${dead}`)),
    lines.join('\n'),
  );
});

test('a crash after the new best/ was complete finishes the replacement on resume', async () => {
  const { c, out } = await finishedRun();
  const best = path.join(out, 'best');
  const dead = deadPid();
  cpSync(best, `${best}.tmp-${dead}`, { recursive: true });
  const manifest = path.join(`${best}.tmp-${dead}`, 'alembic-model.json');
  const marked = { ...JSON.parse(readFileSync(manifest, 'utf8')), info: { step: 8, mark: 'the newer one' } };
  writeFileSync(manifest, JSON.stringify(marked));
  renameSync(best, `${best}.old-${dead}`);
  await train(c, { ...quiet, resume: true });
  assert.equal(
    JSON.parse(readFileSync(path.join(best, 'alembic-model.json'), 'utf8')).info.mark,
    'the newer one',
  );
  assert.deepEqual(
    readdirSync(out).filter((n) => n.startsWith('best.')),
    [],
  );
});

test("temporary directories of dead processes are removed on resume, a live process's never", async () => {
  const { c, out } = await finishedRun();
  const dead = deadPid();
  const live = process.ppid;
  const ckpt = path.join(out, 'checkpoints');
  for (const name of [`step_6.tmp-${dead}`, `step_6.tmp-${live}`, `step_4.old-${dead}`]) {
    mkdirSync(path.join(ckpt, name));
    writeFileSync(path.join(ckpt, name, 'model.safetensors'), 'partial');
  }
  mkdirSync(path.join(out, `best.tmp-${live}`));
  mkdirSync(path.join(out, `best.tmp-${dead}`));
  await train(c, { ...quiet, resume: true });
  assert.ok(!existsSync(path.join(ckpt, `step_6.tmp-${dead}`)));
  assert.ok(!existsSync(path.join(ckpt, `step_4.old-${dead}`)));
  assert.ok(!existsSync(path.join(out, `best.tmp-${dead}`)));
  assert.ok(existsSync(path.join(ckpt, `step_6.tmp-${live}`)), "a live process's directory is left alone");
  assert.ok(existsSync(path.join(out, `best.tmp-${live}`)));
  rmSync(path.join(ckpt, `step_6.tmp-${live}`), { recursive: true });
  rmSync(path.join(out, `best.tmp-${live}`), { recursive: true });
});

test('--resume of a finished run logs no second eval line', async () => {
  const { c, out } = await finishedRun();
  const file = path.join(out, 'metrics.jsonl');
  const before = readMetricsLog(file).filter((e) => e.type === 'eval');
  await train(c, { ...quiet, resume: true });
  await train(c, { ...quiet, resume: true });
  const after = readMetricsLog(file).filter((e) => e.type === 'eval');
  assert.deepEqual(after, before);
  assert.deepEqual(
    after.map((e) => e.step),
    [2, 4, 6, 8],
  );
});

test('--resume after a kill in the middle of a metrics line drops the half line', async () => {
  const { c, out } = await finishedRun();
  const file = path.join(out, 'metrics.jsonl');
  const before = readFileSync(file, 'utf8');
  appendFileSync(file, '{"type":"train","step":9,"lo');
  await train(c, { ...quiet, resume: true });
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('replaceDir replaces only a directory of the kind it is given: a user folder or file is refused', async () => {
  const dir = tempDir();
  const folder = path.join(dir, 'best');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'thesis.tex'), 'years of work');
  const file = path.join(dir, 'model');
  writeFileSync(file, 'a file');
  let filled = 0;
  const fill = (tmp: string) => {
    filled++;
    mkdirSync(tmp);
  };
  for (const target of [folder, file]) {
    assert.throws(
      () => replaceDir(target, MODEL_DIR, fill),
      (e: unknown) => e instanceof UserError && /not replacing it/.test(e.message),
    );
  }
  assert.equal(filled, 0, 'refused before any work');
  assert.equal(readFileSync(path.join(folder, 'thesis.tex'), 'utf8'), 'years of work');
  assert.equal(readFileSync(file, 'utf8'), 'a file');
  // A directory of the kind is replaced; filling it with something else is a bug caught before the swap.
  const { out } = await finishedRun();
  const best = path.join(out, 'best');
  assert.throws(() => replaceDir(best, MODEL_DIR, fill), /is not an alembic model directory once filled/);
  assert.ok(MODEL_DIR.is(best), 'best/ is untouched');
  assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('best.')), [], 'nor a temporary left');
  replaceDir(best, MODEL_DIR, (tmp) => cpSync(best, tmp, { recursive: true }));
  assert.ok(MODEL_DIR.is(best));
  assert.deepEqual(
    readdirSync(out).filter((n) => n.startsWith('best.')),
    [],
  );
});
