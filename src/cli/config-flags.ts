/**
 * The flags every config-driven command shares: `--set key.path=value` (repeatable, validated with the
 * file) and `--threads N` (written into the config where the command keeps its thread count, so the
 * saved config says what ran). Spread into commander's .option(): `.option(...setOption())`.
 */
import type { Command } from 'commander';
import { parseOverride } from '../config/overrides.js';
import { positiveInt } from './run.js';

export interface ConfigFlags {
  set: string[];
  threads?: number;
}

export function setOption(): [string, string, (value: string, previous: string[]) => string[], string[]] {
  return [
    '--set <key.path=value>',
    'change one config value, e.g. --set trainer.epochs=1 (repeatable; JSON values, else text)',
    (value, previous) => {
      parseOverride(value);
      return [...previous, value];
    },
    [],
  ];
}

export function threadsOption(
  what = 'libtorch intra-op threads (default: all cores)',
): [string, string, (v: string) => number] {
  return ['--threads <n>', what, positiveInt('--threads')];
}

/** The config overrides of --set, then --threads as `key=N` (it wins over a --set of the same key). */
export function overridesOf(flags: ConfigFlags, threadsKey: string): string[] {
  return [...flags.set, ...(flags.threads ? [`${threadsKey}=${flags.threads}`] : [])];
}

/** The flags of the commands that train from a config (train, pretrain, multitask). */
export interface TrainingFlags extends ConfigFlags {
  config: string;
  resume?: boolean;
  quiet?: boolean;
}

/** Adds --resume (from the newest checkpoint under `checkpoints`), --quiet, --set and --threads. */
export function withTrainingFlags(command: Command, checkpoints = 'trainer.output_dir'): Command {
  return command
    .option('--resume', `continue from the newest checkpoint in ${checkpoints}`)
    .option('--quiet', 'no progress output')
    .option(...setOption())
    .option(...threadsOption());
}
