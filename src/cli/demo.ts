/**
 * `alembic demo`: the end-to-end job on a real bundled corpus, with no input from the user — split the
 * corpus, write a config, train, evaluate on the held-out test set, predict a few examples.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { spamAssassinSplits, tangSongSplits, writeSplits } from '../data/corpora/standard-splits.js';
import { parseConfig } from '../config/run-config.js';
import { loadModelDir } from '../train/model-dir.js';
import { formatMetrics, train } from '../train/trainer.js';
import { UserError } from '../util/errors.js';
import { positiveInt, runCommand } from './run.js';

interface DemoOptions {
  corpus: string;
  net: string;
  out: string;
  epochs: string;
  limit?: number;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('train, evaluate and predict end to end on a real bundled corpus')
    .option('--corpus <name>', 'spam (SpamAssassin, English) or poetry (Tang vs Song, Chinese)', 'spam')
    .option('--net <net>', 'bow | cnn | gru | lstm | transformer', 'cnn')
    .option('--epochs <n>', 'training epochs', '2')
    .option('--out <dir>', 'working directory', 'runs/demo')
    .option(
      '--limit <n>',
      'at most n training examples (dev and test: n/8 each), for a quick look',
      positiveInt('--limit'),
    )
    .action((opts: DemoOptions) => runCommand(() => demo(opts))());
}

async function demo(opts: DemoOptions): Promise<void> {
  const out = path.resolve(opts.out, `${opts.corpus}-${opts.net}`);
  const log = (l: string) => process.stderr.write(l + '\n');
  log(`alembic demo: ${opts.corpus} corpus, ${opts.net} network, working in ${out}`);
  const all =
    opts.corpus === 'spam'
      ? spamAssassinSplits()
      : opts.corpus === 'poetry'
        ? tangSongSplits(5000)
        : (() => {
            throw new UserError(`--corpus: unknown corpus "${opts.corpus}" (spam or poetry)`);
          })();
  const held = opts.limit === undefined ? undefined : Math.max(8, Math.ceil(opts.limit / 8));
  const splits = {
    train: all.train.slice(0, opts.limit),
    dev: all.dev.slice(0, held),
    test: all.test.slice(0, held),
  };
  const files = writeSplits(splits, path.join(out, 'data'));
  log(
    `data: ${splits.train.length} train, ${splits.dev.length} dev, ${splits.test.length} test → ${path.join(out, 'data')}`,
  );
  const rawConfig = {
    task: 'text_classification',
    dataset: {
      ...files,
      tokenizer: { type: 'char', lowercase: true },
      max_len: opts.corpus === 'spam' ? 256 : 64,
    },
    model:
      opts.net === 'transformer'
        ? { net: 'transformer', hidden_size: 128, num_layers: 2, num_heads: 4, ffn_size: 512 }
        : { net: opts.net, embedding_dim: 128, hidden_size: 128, num_filters: 128 },
    trainer: {
      epochs: Number(opts.epochs),
      batch_size: 32,
      learning_rate: opts.net === 'transformer' ? 5e-4 : 2e-3,
      eval_step: 50,
      save_model_step: 200,
      output_dir: path.join(out, 'run'),
    },
  };
  const configFile = path.join(out, 'config.json');
  writeFileSync(configFile, JSON.stringify(rawConfig, null, 2) + '\n');
  log(`config: ${configFile} (train it yourself with: alembic train --config ${configFile})`);
  const summary = await train(parseConfig(rawConfig, configFile), { log });
  const best = loadModelDir(path.join(out, 'run', 'best'));
  const samples = splits.test.slice(0, 5);
  const preds = best.task.predict(
    best.model,
    samples.map((e) => best.task.encode({ text: e.text })),
  ) as { labels: string[]; probabilities: number[] }[];
  process.stdout.write(
    `\ntest set: ${formatMetrics(summary.test ?? {})}\n\nsample predictions (gold → predicted):\n`,
  );
  samples.forEach((e, i) => {
    const text = e.text.length > 70 ? e.text.slice(0, 70) + '…' : e.text;
    process.stdout.write(
      `  ${e.label} → ${preds[i].labels[0]}  (${Math.max(...preds[i].probabilities).toFixed(3)})  ${text}\n`,
    );
  });
  process.stdout.write(
    `\nmodel: ${path.join(out, 'run', 'best')}\nreport: ${path.join(out, 'run', 'report.html')}\n`,
  );
}
