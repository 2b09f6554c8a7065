/**
 * The files around labelling: the student's training file made of part.0 + part.1, which part.1 lines
 * come from which pool source, and counting lines and labels.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { readLines } from '../../data/line-reader.js';
import type { PoolResult } from './pool.js';
import { InputError } from '../../util/errors.js';

/**
 * part.0 + part.1 (its lines for which `include` holds, and whose top probability is at least
 * `minConfidence` when given) as one training file. Hard labels: the probability column of part.1 (if
 * any) is dropped, giving plain `text<TAB>label` lines; soft labels: it is kept (gold lines have none).
 * Returns how many part.1 lines the chosen sources hold and how many of them were kept.
 */
export async function combineParts(
  part0: string,
  part1: string,
  output: string,
  opts: {
    keepProbabilities: boolean;
    textColumns: 1 | 2;
    include?: (index: number) => boolean;
    minConfidence?: number;
  },
): Promise<{ offered: number; kept: number }> {
  const out = createWriteStream(output, { encoding: 'utf8' });
  let buffer = '';
  const write = async (line: string) => {
    buffer += line + '\n';
    if (buffer.length >= 1 << 16) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  };
  for await (const line of readLines(part0)) await write(line.text);
  let index = 0;
  const counts = { offered: 0, kept: 0 };
  for await (const line of readLines(part1)) {
    if (opts.include && !opts.include(index++)) continue;
    counts.offered++;
    const fields = line.text.split('\t');
    if (opts.minConfidence !== undefined) {
      const column = fields[opts.textColumns + 1];
      if (column === undefined) {
        throw new InputError(
          { file: part1, line: line.number, field: 'probabilities' },
          "is missing: a confidence threshold needs the teacher's probabilities",
        );
      }
      const top = Math.max(...column.split(' ').map(Number));
      if (!Number.isFinite(top)) {
        throw new InputError({ file: part1, line: line.number, field: 'probabilities' }, 'are not numbers');
      }
      if (top < opts.minConfidence) continue;
    }
    counts.kept++;
    await write(opts.keepProbabilities ? line.text : fields.slice(0, opts.textColumns + 1).join('\t'));
  }
  if (buffer !== '' && !out.write(buffer)) await once(out, 'drain');
  await new Promise<void>((done, fail) => out.end((err?: Error | null) => (err ? fail(err) : done())));
  return counts;
}

/**
 * Which part.1 lines (0-based) come from the chosen pool sources: the pool holds each source's lines
 * in turn, in the order of `order`. Undefined (all lines) when every source is chosen.
 */
export function poolLineFilter(
  pool: PoolResult,
  order: readonly { name: string }[],
  chosen: readonly string[] | undefined,
): ((index: number) => boolean) | undefined {
  if (chosen === undefined || order.every((s) => chosen.includes(s.name))) return undefined;
  const ranges: [number, number][] = [];
  let start = 0;
  for (const { name } of order) {
    const n = pool.bySource[name] ?? 0;
    if (chosen.includes(name)) ranges.push([start, start + n]);
    start += n;
  }
  return (i) => ranges.some(([from, to]) => i >= from && i < to);
}

/** Lines per label in a labelled file (the label is the column after the text columns). */
export async function countLabels(file: string, textColumns: 1 | 2): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const line of readLines(file)) {
    const label = line.text.split('\t')[textColumns];
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}

export async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const _ of readLines(file)) n++;
  return n;
}
