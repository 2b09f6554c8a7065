import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError, UserError } from '../../util/errors.js';

/** Which columns of an input line are texts: the first one or two; a gold label, if any, is last. */
export interface RowLayout {
  textColumns: 1 | 2;
  hasLabel: boolean;
}

export interface TextRow {
  lineNo: number;
  texts: string[];
}

/**
 * Decides whether the file has a label column. Given explicitly it is checked line by line later;
 * otherwise the first line's field count decides (text[, text_b] plus one label, or texts only).
 */
export async function detectLayout(
  path: string,
  pair: boolean,
  hasLabelColumn?: boolean,
): Promise<RowLayout> {
  const textColumns = pair ? 2 : 1;
  if (hasLabelColumn !== undefined) return { textColumns, hasLabel: hasLabelColumn };
  for await (const { fields } of readLines(path)) {
    if (fields.length === textColumns) return { textColumns, hasLabel: false };
    if (fields.length === textColumns + 1) return { textColumns, hasLabel: true };
    throw new InputError(
      { file: path, line: 1 },
      `expected ${describe(textColumns, false)} or ${describe(textColumns, true)}, found ${fields.length} tab-separated fields`,
    );
  }
  return { textColumns, hasLabel: false };
}

/** Streams the texts of each line, dropping the label column; a line with the wrong field count is an error. */
export async function* readTextRows(path: string, layout: RowLayout): AsyncGenerator<TextRow> {
  const expected = layout.textColumns + (layout.hasLabel ? 1 : 0);
  for await (const { lineNo, fields } of readLines(path)) {
    if (fields.length !== expected) {
      throw new InputError(
        { file: path, line: lineNo },
        `expected ${describe(layout.textColumns, layout.hasLabel)}, found ${fields.length} tab-separated fields`,
      );
    }
    yield { lineNo, texts: fields.slice(0, layout.textColumns) };
  }
}

function describe(textColumns: number, hasLabel: boolean): string {
  const names = textColumns === 2 ? ['text_a', 'text_b'] : ['text'];
  if (hasLabel) names.push('label');
  return `${names.length} tab-separated field${names.length > 1 ? 's' : ''} (${names.join(', ')})`;
}

async function* readLines(path: string): AsyncGenerator<{ lineNo: number; fields: string[] }> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UserError(`${path}: input file not found`);
    throw err;
  }
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      yield { lineNo, fields: line.split('\t') };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}
