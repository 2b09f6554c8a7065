/**
 * `alembic data prepare <corpus> --out DIR`: the bundled real corpora (and task data derived from them)
 * as train/dev/test files, so the example configs and every init-config template have data on a fresh
 * checkout.
 */
import type { Command } from 'commander';
import { CORPORA, prepareCorpus } from '../data/corpora/prepare-corpus.js';
import { positiveInt, runCommand } from './run.js';

interface PrepareFlags {
  out: string;
  limit?: number;
  unlabelled?: number;
}

export function registerData(program: Command): void {
  const data = program.command('data').description('data helpers: write a bundled corpus as TSV files');
  data
    .command('prepare')
    .argument('<corpus>', CORPORA.map((c) => c.name).join(' | '))
    .description(
      'write train, dev and test files (.tsv; poem-lm .txt, poem-next-line SQuAD .json; tang-song also ' +
        'unlabelled.txt) from a bundled corpus:\n' +
        CORPORA.map((c) => `  ${c.name}: ${c.description} (${c.tasks.join(', ')})`).join('\n'),
    )
    .requiredOption('--out <dir>', 'the folder to write into (created if missing)')
    .option('--limit <n>', 'at most n training examples (dev and test: n/8 each)', positiveInt('--limit'))
    .option('--unlabelled <n>', 'at most n unlabelled texts (default 2000)', positiveInt('--unlabelled'))
    .action((corpus: string, flags: PrepareFlags) =>
      runCommand(() => {
        const files = prepareCorpus(corpus, flags.out, { limit: flags.limit, unlabelled: flags.unlabelled });
        const c = files.counts;
        process.stdout.write(
          `${corpus}: ${c.train} train, ${c.dev} dev, ${c.test} test` +
            (c.unlabelled !== undefined ? `, ${c.unlabelled} unlabelled` : '') +
            ` → ${flags.out}\n`,
        );
      })(),
    );
}
