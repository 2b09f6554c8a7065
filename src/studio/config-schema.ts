/**
 * The training form's model: the `init-config` template of a task and net (what the form starts from) and
 * the JSON Schema of the run config (generated from its zod schema, so the form cannot drift from what the
 * trainer accepts), plus validation exactly as `alembic train` validates a config file — the same
 * one-line messages — and a check that every path the config names stays inside the workspace.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { checkTemplatePair, startingConfig } from '../config/config-template.js';
import {
  checkMetrics,
  configSchema,
  NETS,
  parseConfig,
  TASKS,
  type TaskName,
  type TrainConfig,
} from '../config/run-config.js';
import { UserError } from '../util/errors.js';
import { StudioHttpError, type Workspace } from './workspace.js';

/** The preview's task names that differ from the config's. */
const CONFIG_TASK: Record<string, TaskName> = {
  pair_classification: 'text_pair_classification',
  generation: 'text_generation',
};

export function configTaskName(task: unknown): TaskName {
  const name = typeof task === 'string' ? (CONFIG_TASK[task] ?? task) : '';
  if (!(TASKS as readonly string[]).includes(name))
    throw new UserError(`task: "${String(task)}" is not one of ${TASKS.join(', ')}`);
  return name as TaskName;
}

let cachedSchema: unknown;

/** The run config's JSON Schema (input side: fields with defaults are optional). */
export function runConfigJsonSchema(): unknown {
  cachedSchema ??= z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  return cachedSchema;
}

export function templateFor(task: unknown, net: unknown): Record<string, unknown> {
  const t = configTaskName(task);
  const n = typeof net === 'string' && net !== '' ? net : 'bow';
  if (!(NETS as readonly string[]).includes(n))
    throw new UserError(`net: "${n}" is not one of ${NETS.join(', ')}`);
  checkTemplatePair(t, n);
  return startingConfig(t, n);
}

/** The user's config with trainer.output_dir set to the run's folder (the studio decides where runs go). */
export function withOutputDir(raw: unknown, outputDir: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UserError('config: give the run config as a JSON object');
  const trainer = (raw as { trainer?: unknown }).trainer;
  return {
    ...(raw as Record<string, unknown>),
    trainer: { ...(trainer && typeof trainer === 'object' ? trainer : {}), output_dir: outputDir },
  };
}

/**
 * The config as `alembic train` reads a file in the workspace (relative paths against the workspace),
 * with output_dir set to `outputDir`. Throws the trainer's UserError for an invalid config, 403 for a path
 * outside the workspace.
 */
export function parseRunConfig(raw: unknown, ws: Workspace, outputDir: string): TrainConfig {
  const withOut = withOutputDir(raw, outputDir);
  const c = parseConfig(withOut, 'config', ws.root);
  checkMetrics(c, 'config');
  for (const [field, p] of configPaths(c)) {
    try {
      ws.confine(p);
    } catch (e) {
      if (e instanceof StudioHttpError)
        throw new StudioHttpError(403, `config: ${field}: ${p} is outside the workspace`);
      throw e;
    }
    if (field.startsWith('dataset.') && ['train', 'dev', 'test'].includes(field.slice(8)) && !existsSync(p))
      throw new UserError(`config: ${field}: ${ws.relative(p)} does not exist (data files are under data/)`);
  }
  return c;
}

function configPaths(c: TrainConfig): [string, string][] {
  const all: [string, string | undefined][] = [
    ['dataset.train', c.dataset.train],
    ['dataset.dev', c.dataset.dev],
    ['dataset.test', c.dataset.test],
    ['dataset.label_map', c.dataset.label_map],
    ['dataset.vocab.from', c.dataset.vocab.from],
    ['dataset.tokenizer.vocab', c.dataset.tokenizer.vocab],
    ['model.pretrained_dir', c.model.pretrained_dir],
    ['model.encoder_config', c.model.encoder_config],
  ];
  return all.filter((x): x is [string, string] => x[1] !== undefined);
}

/** {ok, errors}: the messages of an invalid config, one line each, as the CLI prints them. */
export function validateRunConfig(raw: unknown, ws: Workspace): { ok: boolean; errors: string[] } {
  try {
    parseRunConfig(raw, ws, path.join(ws.runsDir, '(validation)'));
    return { ok: true, errors: [] };
  } catch (e) {
    if (e instanceof UserError || e instanceof StudioHttpError)
      return { ok: false, errors: e.message.split('\n') };
    throw e;
  }
}
