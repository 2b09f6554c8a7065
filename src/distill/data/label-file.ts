/**
 * Labelling unlabelled text with the teacher (guide §6.3.3.1 step 2): each input line (`text`, or
 * `text_a<TAB>text_b`) becomes `text<TAB>label`, or `text<TAB>label<TAB>p0 p1 …` with the teacher's
 * probabilities for soft-label training.
 *
 * Resumable without duplicates or gaps: lines are appended in batches; every `syncEvery` lines the
 * output is fsynced and then a progress marker (`<output>.progress`: lines and bytes known durable) is
 * replaced atomically. After an interruption, even a crash mid-write, the output is cut back to the
 * marker's byte count, its lines are checked one by one against the input, and labelling continues
 * at the next input line. A marker from another input, teacher or format (another fingerprint) is
 * discarded and labelling starts over.
 *
 * A `range` labels only some input lines (a worker's shard, see label-shards.ts); batches start at the
 * range's first line, so a range that starts on a batch boundary gives every line the same batch
 * companions as a whole-file run.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { readLines, type Line } from '../../data/line-reader.js';
import type { ClassificationPrediction } from '../../tasks/classification.js';
import type { LoadedModel } from '../../train/model-dir.js';
import { writeFileDurably } from '../../util/durable-write.js';
import { InputError, UserError } from '../../util/errors.js';
import { countLines } from './training-files.js';

/** One unlabelled example: the text columns of an input line. */
export interface TextRow {
  text: string;
  textB?: string;
}

export interface TeacherLabel {
  label: string;
  probabilities: number[];
}

/** The teacher: labels for a batch of rows, in order. */
export type LabelBatch = (rows: TextRow[]) => TeacherLabel[];

export interface LabelFileOptions {
  input: string;
  output: string;
  /** 1 for `text` lines, 2 for `text_a<TAB>text_b` lines. */
  textColumns: 1 | 2;
  label: LabelBatch;
  batchSize: number;
  /** Write the teacher's probabilities as a third column. */
  probabilities: boolean;
  /** Identifies input, teacher and format; a progress marker with another fingerprint is discarded. */
  fingerprint: string;
  /** Only input lines start ≤ i < end (0-based); default all. */
  range?: LineRange;
  /** Lines between durable progress points. Default 2048. */
  syncEvery?: number;
  /** Stops after the current batch (made durable first). */
  signal?: AbortSignal;
  /** Called once before labelling with the lines already done (when resuming) and the total. */
  onStart?: (resumedAt: number, total: number) => void;
  /** Called after each batch with lines done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Messages for the user (resuming, starting over). */
  log?: (line: string) => void;
}

export interface LineRange {
  start: number;
  end: number;
}

export interface LabelFileResult {
  /** Input lines (of the range). */
  total: number;
  /** Lines labelled in this run. */
  labelled: number;
  /** Lines already done when this run started. */
  resumedAt: number;
  /** False when stopped by the signal before the end. */
  complete: boolean;
}

interface ProgressMarker {
  format: 'alembic-labelling';
  fingerprint: string;
  lines: number;
  bytes: number;
  complete: boolean;
}

export const progressFile = (output: string) => `${output}.progress`;

export async function labelFile(options: LabelFileOptions): Promise<LabelFileResult> {
  const { input, output, batchSize } = options;
  const log = options.log ?? (() => {});
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new UserError(`batch size must be ≥ 1, got ${batchSize}`);
  const lineCount = await countLines(input);
  const range = options.range ?? { start: 0, end: lineCount };
  if (range.start < 0 || range.end > lineCount || range.start > range.end)
    throw new Error(`lines ${range.start}..${range.end} are not within ${input}'s ${lineCount} lines`);
  const total = range.end - range.start;
  const start = await resumePoint(options, range.start, log);
  if (start.lines === total && start.complete) {
    return { total, labelled: 0, resumedAt: total, complete: true };
  }
  if (start.lines > 0) log(`labelling: resuming at line ${start.lines + 1} of ${total}`);
  options.onStart?.(start.lines, total);

  const syncEvery = options.syncEvery ?? 2048;
  const fd = openSync(output, 'a');
  let lines = start.lines;
  let bytes = start.bytes;
  let lastSync = lines;
  const durable = (complete: boolean) => {
    fsyncSync(fd);
    writeMarker(output, {
      format: 'alembic-labelling',
      fingerprint: options.fingerprint,
      lines,
      bytes,
      complete,
    });
    lastSync = lines;
  };
  const flush = (batch: TextRow[]) => {
    const labels = options.label(batch);
    if (labels.length !== batch.length)
      throw new Error(`the teacher gave ${labels.length} labels for ${batch.length} rows`);
    const chunk = batch.map((row, i) => outputLine(row, labels[i], options.probabilities) + '\n').join('');
    writeSync(fd, chunk);
    bytes += Buffer.byteLength(chunk);
    lines += batch.length;
    if (lines - lastSync >= syncEvery) durable(false);
    options.onProgress?.(lines, total);
  };

  let stopped = false;
  try {
    let batch: TextRow[] = [];
    let index = 0;
    for await (const line of readLines(input)) {
      if (index++ < range.start + start.lines) continue;
      if (index > range.end) break;
      batch.push(parseRow(input, line, options.textColumns));
      if (batch.length === batchSize) {
        flush(batch);
        batch = [];
        if (options.signal?.aborted) {
          stopped = true;
          break;
        }
      }
    }
    if (!stopped && batch.length > 0) flush(batch);
    durable(!stopped);
  } finally {
    closeSync(fd);
  }
  return { total, labelled: lines - start.lines, resumedAt: start.lines, complete: !stopped };
}

/** Where to continue: the marker's point when it is ours and the output checks out; else the start. */
async function resumePoint(
  options: LabelFileOptions,
  skip: number,
  log: (line: string) => void,
): Promise<{ lines: number; bytes: number; complete: boolean }> {
  const { output } = options;
  const marker = readMarker(output);
  const fresh = () => {
    writeFileSync(output, '');
    writeMarker(output, {
      format: 'alembic-labelling',
      fingerprint: options.fingerprint,
      lines: 0,
      bytes: 0,
      complete: false,
    });
    return { lines: 0, bytes: 0, complete: false };
  };
  // Starting over empties the output: never a file that labelling did not start (it has no progress marker;
  // an empty one is what a start interrupted before its marker leaves).
  if (!marker && existsSync(output) && statSync(output).size > 0)
    throw new UserError(
      `${output}: exists and was not written by alembic's labelling (no ${path.basename(progressFile(output))}); ` +
        'choose another output or move the file',
    );
  if (!marker || marker.fingerprint !== options.fingerprint || !existsSync(output)) {
    if (marker) log('labelling: the input, the teacher or the format changed: starting over');
    return fresh();
  }
  if (statSync(output).size < marker.bytes) {
    log(`labelling: ${output} is shorter than its progress marker says: starting over`);
    return fresh();
  }
  // Lines written after the last durable point may be partial or unrecorded: they are redone.
  truncateSync(output, marker.bytes);
  const mismatch = await firstMismatch(options, skip, marker.lines);
  if (mismatch !== undefined) {
    log(`labelling: ${output}:${mismatch} does not match the input line: starting over`);
    return fresh();
  }
  return { lines: marker.lines, bytes: marker.bytes, complete: marker.complete };
}

/**
 * The first output line (1-based) whose texts differ from the input's from line `skip` on, among the
 * first `lines`.
 */
async function firstMismatch(
  options: LabelFileOptions,
  skip: number,
  lines: number,
): Promise<number | undefined> {
  if (lines === 0) return undefined;
  const inputs = readLines(options.input)[Symbol.asyncIterator]();
  for (let i = 0; i < skip; i++) await inputs.next();
  let n = 0;
  for await (const out of readLines(options.output)) {
    n++;
    const next = await inputs.next();
    if (next.done || n > lines) return n;
    const texts = out.text.split('\t').slice(0, options.textColumns).join('\t');
    if (texts !== next.value.text) return n;
  }
  await inputs.return?.(undefined);
  return n === lines ? undefined : n + 1;
}

function parseRow(file: string, line: Line, textColumns: 1 | 2): TextRow {
  const fields = line.text.split('\t');
  if (fields.length !== textColumns) {
    const names = textColumns === 1 ? 'text' : 'text_a, text_b';
    throw new InputError(
      { file, line: line.number },
      `expected ${textColumns} column${textColumns === 1 ? '' : 's'} (${names}) of unlabelled text, found ${fields.length}`,
    );
  }
  fields.forEach((f, i) => {
    if (f.trim() === '') {
      throw new InputError({ file, line: line.number, field: i === 0 ? 'text' : 'text_b' }, 'is empty');
    }
  });
  return textColumns === 1 ? { text: fields[0] } : { text: fields[0], textB: fields[1] };
}

function outputLine(row: TextRow, label: TeacherLabel, probabilities: boolean): string {
  const texts = row.textB === undefined ? row.text : `${row.text}\t${row.textB}`;
  const line = `${texts}\t${label.label}`;
  return probabilities ? `${line}\t${label.probabilities.map(formatProbability).join(' ')}` : line;
}

/** Six decimals: enough for a training target, and a line stays short. */
function formatProbability(p: number): string {
  return p.toFixed(6);
}

/** Lines and bytes of `output` when its marker says it is complete for this fingerprint (and it is). */
export function completeLabelling(
  output: string,
  fingerprint: string,
): { lines: number; bytes: number } | undefined {
  const m = readMarker(output);
  if (!m?.complete || m.fingerprint !== fingerprint || !existsSync(output)) return undefined;
  return statSync(output).size === m.bytes ? { lines: m.lines, bytes: m.bytes } : undefined;
}

/** Records `output` (made durable by the caller) as complete for this fingerprint. */
export function markComplete(output: string, fingerprint: string, lines: number, bytes: number): void {
  writeMarker(output, { format: 'alembic-labelling', fingerprint, lines, bytes, complete: true });
}

/** Lines done so far per the marker of `output` (0 when none or another fingerprint's). */
export function labelledSoFar(output: string, fingerprint: string): number {
  const m = readMarker(output);
  return m?.fingerprint === fingerprint ? m.lines : 0;
}

function readMarker(output: string): ProgressMarker | undefined {
  const file = progressFile(output);
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as ProgressMarker;
    return m.format === 'alembic-labelling' ? m : undefined;
  } catch {
    return undefined;
  }
}

function writeMarker(output: string, marker: ProgressMarker): void {
  writeFileDurably(progressFile(output), JSON.stringify(marker) + '\n');
}

/** A teacher model directory as a labeller (single-label and pair classification). */
export function teacherLabeller(teacher: LoadedModel): LabelBatch {
  return (rows) => {
    const features = rows.map((row) => teacher.task.encode({ text: row.text, textB: row.textB }));
    const predictions = teacher.task.predict(teacher.model, features) as ClassificationPrediction[];
    return predictions.map((p) => ({ label: p.labels[0], probabilities: p.probabilities }));
  };
}
