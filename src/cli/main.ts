/**
 * The `alembic` command line: one subcommand per job, each in its own file.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerEval } from './eval.js';
import { registerInitConfig } from './init-config.js';
import { registerPredict } from './predict.js';
import { registerTrain } from './train.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command()
  .name('alembic')
  .description('From an NLP business problem to a small, fast, deployed model.')
  .version(pkg.version);

registerTrain(program);
registerEval(program);
registerPredict(program);
registerInitConfig(program);

await program.parseAsync(process.argv);
