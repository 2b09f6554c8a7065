/**
 * `alembic augment`: data-distillation augmentation of a TSV file (guide §6.3.2) — UNK noise, same-POS
 * replacement and n-sampling, mixed by weight; writes the augmented texts (no labels: the teacher
 * labels them) and prints what it did.
 */
import type { Command } from 'commander';
import { augmentFile, parseStrategies } from '../distill/augment/index.js';
import { UserError } from '../util/errors.js';
import { positiveInt, runCommand } from './run.js';

interface AugmentFlags {
  input: string;
  output: string;
  ratio: number;
  strategies: string;
  seed: number;
  p: number;
  pair?: boolean;
  posLexicon?: string;
  json?: boolean;
}

export function registerAugment(program: Command): void {
  program
    .command('augment')
    .description('augment a TSV file for data distillation (UNK noise, same-POS replacement, n-sampling)')
    .requiredOption('-i, --input <file>', 'text<TAB>label lines (the label column is optional and dropped)')
    .requiredOption('-o, --output <file>', 'augmented texts, one per line')
    .option('--ratio <n>', 'samples tried per input line', positiveInt('--ratio'), 10)
    .option(
      '--strategies <list>',
      'strategies and weights: unk, pos, nsample, e.g. "unk,pos,nsample" or "unk=2,nsample=1"',
      'unk,pos,nsample',
    )
    .option('--seed <n>', 'random seed (the output is the same for the same seed)', integer('--seed'), 1)
    .option('--p <prob>', 'per-word probability for UNK noise and same-POS replacement', probability, 0.1)
    .option('--pair', 'lines hold two texts (text_a<TAB>text_b[<TAB>label]); both are augmented')
    .option('--pos-lexicon <file>', 'word<TAB>tag lines: the parts of speech for same-POS replacement')
    .option('--json', 'print the counts as JSON')
    .action((flags: AugmentFlags) =>
      runCommand(async () => {
        const result = await augmentFile({
          input: flags.input,
          output: flags.output,
          ratio: flags.ratio,
          strategies: parseStrategies(flags.strategies),
          seed: flags.seed,
          p: flags.p,
          pair: flags.pair ?? false,
          posLexicon: flags.posLexicon,
        });
        if (flags.json) {
          process.stdout.write(JSON.stringify(result, null, 2) + '\n');
          return;
        }
        process.stdout.write(
          `read ${result.read} lines; wrote ${result.written} augmented lines to ${flags.output}\n` +
            `dropped ${result.duplicatesDropped} duplicates and ${result.unchangedDropped} unchanged samples; ` +
            `words split by ${result.segmentation}\n`,
        );
      })(),
    );
}

function integer(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n))
      throw new UserError(`${flag}: expected an integer, got "${v}"`);
    return n;
  };
}

function probability(v: string): number {
  const p = Number(v);
  if (v.trim() === '' || !(p >= 0 && p <= 1))
    throw new UserError(`--p: expected a probability in [0, 1], got "${v}"`);
  return p;
}
