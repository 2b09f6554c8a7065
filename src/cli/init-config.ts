import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NETS, TASKS } from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { runCommand } from './run.js';

/** A starting config with a "//" comment beside each section (alembic ignores keys that start with //). */
export function startingConfig(task: string, net: string): Record<string, unknown> {
  const transformer = net === 'transformer';
  return {
    '//': `alembic ${task} with ${net}. Keys starting with // are comments. Paths are relative to this file.`,
    task,
    dataset: {
      '//': 'TSV files: text<TAB>label (pairs: text_a<TAB>text_b<TAB>label; multi-label: text<TAB>l1 l2).',
      train: 'data/train.tsv',
      dev: 'data/dev.tsv',
      test: 'data/test.tsv',
      tokenizer: {
        type: 'char',
        lowercase: true,
        '//': 'char | jieba | whitespace | wordpiece (needs vocab)',
      },
      max_len: 128,
      vocab: { min_freq: 1, max_size: 50000 },
    },
    model: transformer
      ? {
          '//':
            'A small BERT-style encoder; set pretrained_dir to a checkpoint directory to fine-tune one. ' +
            'pooling: cls (BERT) or mean (trains better from scratch and after masked-LM-only pre-training).',
          net,
          hidden_size: 256,
          num_layers: 4,
          num_heads: 4,
          ffn_size: 1024,
          dropout: 0.1,
          pooling: 'cls',
        }
      : { net, embedding_dim: 128, hidden_size: 128, num_layers: 1, dropout: 0.1 },
    trainer: {
      '//': 'The 10/100/1000 rule: log every 10 steps, evaluate every 100, checkpoint every 1000.',
      epochs: 3,
      batch_size: 32,
      learning_rate: transformer ? 5e-5 : 1e-3,
      warmup_ratio: 0.1,
      weight_decay: 0.01,
      max_grad_norm: 1.0,
      seed: 42,
      train_log_step: 10,
      eval_step: 100,
      save_model_step: 1000,
      early_stopping: {
        metric: task === 'multi_label_classification' ? 'micro_f1' : 'macro_f1',
        patience: 5,
      },
      output_dir: 'runs/my-model',
    },
  };
}

export function registerInitConfig(program: Command): void {
  program
    .command('init-config')
    .description('write a commented starting config')
    .requiredOption('-t, --task <task>', TASKS.join(' | '))
    .requiredOption('-n, --net <net>', NETS.join(' | '))
    .option('-o, --output <file>', 'where to write it (default: stdout)')
    .option('--force', 'overwrite an existing file')
    .action((opts: { task: string; net: string; output?: string; force?: boolean }) =>
      runCommand(() => {
        if (!(TASKS as readonly string[]).includes(opts.task))
          throw new UserError(`--task: unknown task "${opts.task}" (${TASKS.join(', ')})`);
        if (!(NETS as readonly string[]).includes(opts.net))
          throw new UserError(`--net: unknown net "${opts.net}" (${NETS.join(', ')})`);
        const text = JSON.stringify(startingConfig(opts.task, opts.net), null, 2) + '\n';
        if (!opts.output) return void process.stdout.write(text);
        if (existsSync(opts.output) && !opts.force)
          throw new UserError(`${opts.output}: exists (use --force to overwrite)`);
        writeFileSync(opts.output, text);
        process.stderr.write(`wrote ${opts.output}\n`);
      })(),
    );
}
