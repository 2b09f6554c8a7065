/**
 * `--set key.path=value`: one value of a JSON config changed from the command line, the way HF and
 * PaddleNLP users change one setting without editing the file. The value is JSON when it parses as JSON
 * (numbers, true/false, null, arrays, objects, quoted strings) and a plain string otherwise; the config
 * is validated afterwards exactly like the file, so a wrong key or type is reported by its path.
 */
import { UserError } from '../util/errors.js';

export interface Override {
  path: string[];
  value: unknown;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  const parts = key.split('.');
  if (!key || parts.some((p) => p === ''))
    throw new UserError(`--set ${text}: expected key.path=value (e.g. trainer.epochs=1)`);
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the text itself (model.net=bow).
  }
  return { path: parts, value };
}

/** A copy of `config` with every override applied in order (missing sections are created). */
export function applyOverrides(config: unknown, overrides: readonly string[], source: string): unknown {
  if (overrides.length === 0) return config;
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new UserError(`${source}: a config must be a JSON object`);
  const out = structuredClone(config) as Record<string, unknown>;
  for (const text of overrides) {
    const { path, value } = parseOverride(text);
    let node = out;
    for (const [i, part] of path.slice(0, -1).entries()) {
      const next = node[part];
      if (next === undefined) node[part] = {};
      else if (next === null || typeof next !== 'object' || Array.isArray(next))
        throw new UserError(
          `--set ${text}: ${source}: ${path.slice(0, i + 1).join('.')} is not a section (it holds ${JSON.stringify(next)})`,
        );
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}
