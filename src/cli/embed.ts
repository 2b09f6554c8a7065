/**
 * `alembic embed`: one vector per input text from a siamese text_matching model (bow, cnn, gru, lstm),
 * for search indexes and for clustering elsewhere. Input: one text per line (--input or stdin). Output,
 * one line per text in input order: a JSON array of floats (`--format json`, i.e. JSON Lines) or the
 * floats tab-separated (`--format tsv`).
 */
import type { Command } from 'commander';
import { readLinesSync, splitLines } from '../data/line-reader.js';
import { MatchingTask } from '../tasks/matching.js';
import { loadModelDir, type LoadedModel } from '../train/model-dir.js';
import { UserError } from '../util/errors.js';
import { positiveInt, runCommand } from './run.js';

export type EmbeddingFormat = 'json' | 'tsv';

export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('write one vector per text (one text per line) from a siamese text_matching model')
    .requiredOption('-m, --model <dir>', 'a text_matching model directory (bow, cnn, gru or lstm)')
    .option('-i, --input <file>', 'one text per line (default: stdin)')
    .option('--format <format>', 'json (a JSON array per line) or tsv (tab-separated floats)', 'json')
    .option('--normalize', 'scale every vector to length 1, so a dot product is the cosine')
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 64)
    .action(
      (opts: { model: string; input?: string; format: string; normalize?: boolean; batchSize: number }) =>
        runCommand(async () => {
          if (opts.format !== 'json' && opts.format !== 'tsv') {
            throw new UserError(`--format: expected "json" or "tsv", got "${opts.format}"`);
          }
          const { task, loaded } = loadMatchingModel(opts.model);
          try {
            const texts = await readTexts(opts.input);
            let vectors = task.embed(loaded.model, texts, opts.batchSize);
            if (opts.normalize) vectors = vectors.map(unitLength);
            process.stdout.write(
              vectors.map((v) => formatVector(v, opts.format as EmbeddingFormat)).join('\n') + '\n',
            );
          } finally {
            loaded.model.dispose();
          }
        })(),
    );
}

/** A model directory that holds a text_matching model, or a UserError saying what it holds instead. */
export function loadMatchingModel(dir: string): { task: MatchingTask; loaded: LoadedModel } {
  const loaded = loadModelDir(dir);
  if (!(loaded.task instanceof MatchingTask)) {
    loaded.model.dispose();
    throw new UserError(`${dir}: a ${loaded.manifest.task} model; this command needs a text_matching model`);
  }
  return { task: loaded.task, loaded };
}

/** The lines of a file, or of stdin without a file; blank lines in the middle are an error (line-reader). */
export async function readTexts(file?: string): Promise<string[]> {
  if (file) return readLinesSync(file).map((l) => l.text);
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return splitLines('stdin', Buffer.concat(chunks)).map((l) => l.text);
}

export function unitLength(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : v;
}

/** Six decimals: float32 vectors carry about seven significant digits, and the output stays compact. */
export function formatVector(v: number[], format: EmbeddingFormat): string {
  const values = v.map((x) => Number(x.toFixed(6)));
  return format === 'json' ? JSON.stringify(values) : values.join('\t');
}
