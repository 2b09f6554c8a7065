/**
 * The `alembic` command line: one subcommand per job, each in its own file.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAdvise } from './advise.js';
import { registerDemo } from './demo.js';
import { registerBench } from './bench.js';
import { registerCluster } from './cluster.js';
import { registerEmbed } from './embed.js';
import { registerAugment } from './augment.js';
import { registerData } from './data.js';
import { registerDataDistill } from './data-distill.js';
import { registerDistill } from './distill.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerInitConfig } from './init-config.js';
import { registerLabel } from './label.js';
import { registerMultitask } from './multitask.js';
import { registerPredict } from './predict.js';
import { registerPretrain } from './pretrain.js';
import { registerScore } from './score.js';
import { registerServe } from './serve.js';
import { registerStudio } from './studio.js';
import { registerTrain } from './train.js';
import { exitOnUserError, installErrorBoundary } from './run.js';

installErrorBoundary();

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command()
  .name('alembic')
  .description('From an NLP business problem to a small, fast, deployed model.')
  .version(pkg.version);

registerTrain(program);
registerAdvise(program);
registerDemo(program);
registerEval(program);
registerPredict(program);
registerScore(program);
registerPretrain(program);
registerMultitask(program);
registerEmbed(program);
registerCluster(program);
registerExport(program);
registerServe(program);
registerStudio(program);
registerBench(program);
registerInitConfig(program);
registerAugment(program);
registerData(program);
registerDataDistill(program);
registerLabel(program);
registerDistill(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Option parsers (e.g. positiveInt) run outside the commands' runCommand; their UserErrors end the same way.
  exitOnUserError(e);
  throw e;
}
