/**
 * `alembic score`: how probable each line is under a causal language model — its log-likelihood and
 * perplexity ("is this a normal sentence?"). Output: `text<TAB>log_prob<TAB>perplexity<TAB>tokens`.
 */
import type { Command } from 'commander';
import { CausalLmTask, scoreTexts, type CausalLmModel } from '../tasks/language-model.js';
import { loadModelDir } from '../train/model-dir.js';
import { UserError } from '../util/errors.js';
import { inputFile } from '../util/input-file.js';
import { positiveInt, runCommand } from './run.js';

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('log-likelihood and perplexity of each line under a language model')
    .requiredOption('-m, --model <dir>', 'a language_model model directory (causal objective)')
    .option('-i, --input <file>', 'one text per line (default: stdin)')
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 64)
    .action((opts: { model: string; input?: string; batchSize: number }) =>
      runCommand(async () => {
        const m = loadModelDir(opts.model);
        if (!(m.task instanceof CausalLmTask))
          throw new UserError(
            `${opts.model}: score needs a causal language_model, not a ${m.manifest.task} model`,
          );
        const task = m.task;
        const { file, cleanup } = await inputFile(opts.input, 'alembic-score-');
        try {
          const examples = await task.read(file, { labelled: false });
          for (let i = 0; i < examples.length; i += opts.batchSize) {
            const chunk = examples.slice(i, i + opts.batchSize);
            const scores = scoreTexts(
              m.model as CausalLmModel,
              chunk.map((e) => task.encode(e)),
              opts.batchSize,
            );
            process.stdout.write(
              chunk
                .map(
                  (e, k) =>
                    `${e.text}\t${scores[k].logProb.toFixed(4)}\t${scores[k].perplexity.toFixed(4)}\t${scores[k].tokens}`,
                )
                .join('\n') + '\n',
            );
          }
        } finally {
          cleanup();
          m.model.dispose();
        }
      })(),
    );
}
