/**
 * The flags every config-driven command shares: `--set key.path=value` (repeatable, validated with the
 * file) and `--threads N` (written into the config where the command keeps its thread count, so the
 * saved config says what ran).
 */
import { Option, type Command } from 'commander';
import { parseOverride } from '../config/overrides.js';
import { positiveInt } from './run.js';

export interface ConfigFlags {
  set: string[];
  threads?: number;
}

export function addSetOption(command: Command): Command {
  return command.option(
    '--set <key.path=value>',
    'change one config value, e.g. --set trainer.epochs=1 (repeatable; JSON values, else text)',
    (value: string, previous: string[]) => {
      parseOverride(value);
      return [...previous, value];
    },
    [] as string[],
  );
}

export function addThreadsOption(command: Command, what = 'libtorch intra-op threads'): Command {
  return command.addOption(
    new Option('--threads <n>', `${what} (default: all cores)`).argParser(positiveInt('--threads')),
  );
}

/** The config overrides of --set, then --threads as `key=N` (it wins over a --set of the same key). */
export function overridesOf(flags: ConfigFlags, threadsKey: string): string[] {
  return [...flags.set, ...(flags.threads ? [`${threadsKey}=${flags.threads}`] : [])];
}
