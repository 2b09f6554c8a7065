/**
 * `alembic score`: how probable each line is under a causal language model — its log-likelihood and
 * perplexity ("is this a normal sentence?"). Output: a header line, then
 * `text<TAB>log_prob<TAB>perplexity<TAB>tokens<TAB>truncated`, where `truncated` says "no" or how much
 * of a line longer than dataset.max_len was scored (the model never sees more), and a summary on stderr.
 */
import type { Command } from 'commander';
import { CausalLmTask, scoreTexts, type CausalLmModel } from '../tasks/language-model.js';
import { loadModelDir } from '../train/model-dir.js';
import { UserError } from '../util/errors.js';
import { inputFile } from '../util/input-file.js';
import { positiveInt, runCommand } from './run.js';

export const SCORE_COLUMNS = ['text', 'log_prob', 'perplexity', 'tokens', 'truncated'];

export function registerScore(program: Command): void {
  program
    .command('score')
    .description(
      'log-likelihood and perplexity of each line under a language model (columns: ' +
        `${SCORE_COLUMNS.join(', ')}; tokens counts the end token)`,
    )
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
        let truncated = 0;
        try {
          const examples = await task.read(file, { labelled: false });
          process.stdout.write(SCORE_COLUMNS.join('\t') + '\n');
          for (let i = 0; i < examples.length; i += opts.batchSize) {
            const chunk = examples.slice(i, i + opts.batchSize);
            const scores = scoreTexts(
              m.model as CausalLmModel,
              chunk.map((e) => task.encode(e)),
              opts.batchSize,
            );
            const lines = chunk.map((e, k) => {
              const length = task.tokenCount(e);
              const cut = length > task.maxTokens;
              if (cut) truncated++;
              const s = scores[k];
              return [
                e.text,
                s.logProb.toFixed(4),
                s.perplexity.toFixed(4),
                s.tokens,
                cut ? `first ${task.maxTokens} of ${length} tokens` : 'no',
              ].join('\t');
            });
            process.stdout.write(lines.join('\n') + '\n');
          }
          if (truncated)
            process.stderr.write(
              `alembic: ${truncated} line(s) longer than the model's max_len were scored on their first ` +
                `${task.maxTokens} tokens only (see the truncated column)\n`,
            );
        } finally {
          cleanup();
          m.model.dispose();
        }
      })(),
    );
}
