/**
 * Splits a data file of the workspace into train, dev and test files with a seed (src/data/split.ts),
 * stratified by label when the file has one, so every part keeps the label mix. Examples are moved as
 * the file wrote them (a TSV or JSON Lines line, a CSV record) and a header row is repeated in each part.
 * Existing files are never overwritten.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { validateConfig } from '../config/run-config.js';
import { splitDataset } from '../data/split.js';
import { dataFormatOf } from '../data/readers/data-format.js';
import { UserError } from '../util/errors.js';
import { analyseFile } from './file-preview.js';
import { StudioHttpError } from './workspace.js';

const splitSchema = z.strictObject({
  dev: z.number().gt(0).lt(1).default(0.1),
  test: z.number().min(0).lt(1).default(0.1),
  seed: z.number().int().default(42),
});

export interface SplitFiles {
  train: string;
  dev: string;
  test: string;
}

export function splitFile(file: string, body: unknown): SplitFiles {
  const o = validateConfig(splitSchema, body ?? {}, 'split');
  if (o.dev + o.test >= 1) throw new UserError('split: dev + test must leave some examples for training');
  if (path.extname(file).toLowerCase() === '.json')
    throw new UserError(`split: ${path.basename(file)} is a SQuAD JSON file; split it by articles yourself`);
  const { table, roles } = analyseFile(file);
  if (table.truncated)
    throw new UserError(`split: ${path.basename(file)} is too large to split here (over 64 MB)`);
  const { header, units } = rawExamples(file, table.named);
  if (units.length !== table.rows.length)
    throw new UserError(`split: ${path.basename(file)}: could not match its examples to lines`);
  const items = units.map((raw, i) => ({
    raw,
    label: roles.labelColumn === undefined ? '' : table.rows[i][roles.labelColumn],
  }));
  const parts = splitDataset(items, {
    train: 1 - o.dev - o.test,
    dev: o.dev,
    test: o.test,
    seed: o.seed,
    ...(roles.labelColumn !== undefined && !roles.tags && { stratifyBy: 'label' as const }),
  });
  const ext = path.extname(file);
  const stem = path.basename(file, ext);
  const names: SplitFiles = {
    train: `${stem}.train${ext}`,
    dev: `${stem}.dev${ext}`,
    test: `${stem}.test${ext}`,
  };
  for (const name of Object.values(names))
    if (existsSync(path.join(path.dirname(file), name)))
      throw new StudioHttpError(409, `split: ${name} exists already; delete or rename it first`);
  for (const part of ['train', 'dev', 'test'] as const) {
    const lines = [...(header === undefined ? [] : [header]), ...parts[part].map((x) => x.raw)];
    writeFileSync(
      path.join(path.dirname(file), names[part]),
      lines.map((l) => l.replace(/\r?\n$/, '') + '\n').join(''),
    );
  }
  return names;
}

/** Each example's text as written, and the header row, if any. */
function rawExamples(file: string, named: boolean): { header?: string; units: string[] } {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const format = dataFormatOf(file);
  if (format === 'csv') {
    const records = parseCsv(text, {
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as {
      raw: string;
    }[];
    const [header, ...rest] = records.map((r) => r.raw);
    return { header, units: rest };
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (format === 'tsv' && named) return { header: lines[0], units: lines.slice(1) };
  return { units: lines };
}
