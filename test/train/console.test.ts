// What a training run tells the user: the console's loss is the mean over the same window as the log's,
// epochs count from 1 in the console and in metrics.jsonl, and a model that predicts one class for every
// dev example gets a loud warning in the console and in report.html.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/run-config.js';
import { Progress } from '../../src/train/progress.js';
import { readMetricsLog, train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

test('the console loss is the mean of the last train_log_step losses, not an average from step 1', () => {
  const p = new Progress(100, 0, true, 10);
  for (let step = 1; step <= 20; step++) p.tick(step, step, 1);
  assert.equal(p.smoothed, 15.5);
});

async function run(dir: string, trainFile: string, devFile: string, extra: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: trainFile, dev: devFile },
      model: { net: 'bow', embedding_dim: 16 },
      trainer: {
        epochs: 2,
        batch_size: 16,
        train_log_step: 2,
        eval_step: 5,
        threads: 1,
        output_dir: 'run',
        ...extra,
      },
    },
    path.join(dir, 'c.json'),
  );
  await train(config, { quiet: true, log: (l) => lines.push(l) });
  return { log: lines.join('\n'), report: readFileSync(path.join(dir, 'run', 'report.html'), 'utf8') };
}

test('metrics.jsonl counts epochs from 1; a learnt model gets no warning', async () => {
  const dir = tempDir();
  const files = writeSentimentSplits(dir, { train: 64, dev: 40, test: 0 });
  const { log, report } = await run(dir, files.train, files.dev, { epochs: 4, learning_rate: 0.01 });
  const entries = readMetricsLog(path.join(dir, 'run', 'metrics.jsonl'));
  const epochs = entries.filter((e) => e.type === 'train').map((e) => e.epoch);
  // 64 examples / batch 16 = 4 steps an epoch, logged every 2 steps.
  assert.deepEqual(epochs, [1, 1, 2, 2, 3, 3, 4, 4]);
  assert.doesNotMatch(log, /WARNING/);
  assert.doesNotMatch(report, /class="warning"/);
});

test('predictions collapsed to one class on dev: a loud warning in the console and in report.html', async () => {
  const dir = tempDir();
  // Labels that no text predicts, 9 in 10 of one class: the model learns to answer the majority class.
  const rng = new Rng(3);
  const write = (name: string, n: number) => {
    const file = path.join(dir, name);
    const rows = Array.from(
      { length: n },
      (_, i) => `${'甲乙丙丁'[rng.int(4)]}${'戊己庚'[rng.int(3)]}\t${i % 10 ? 'common' : 'rare'}`,
    );
    writeFileSync(file, rows.join('\n') + '\n');
    return file;
  };
  const { log, report } = await run(dir, write('train.tsv', 200), write('dev.tsv', 40), {
    learning_rate: 0.05,
  });
  assert.match(log, /\*\*\* WARNING: the best model predicts "common" for every dev example/);
  assert.match(report, /<p class="warning"><b>Warning:<\/b> the best model predicts &quot;common&quot;/);
});
