/**
 * What the teacher labels (student/unsup_train_aug): the augmented gold texts followed by the user's
 * unlabelled texts, each kept once. Texts that are gold examples (train, dev or test) are left out: the
 * training ones are already in part.0 with their true label, and held-out ones labelled by the teacher
 * would leak the evaluation data into the student's training.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { readLines } from '../../data/line-reader.js';
import { readClassificationFile } from '../../data/readers/classification.js';
import { HashSet64 } from '../augment/dedupe.js';
import { InputError } from '../../util/errors.js';

export interface PoolOptions {
  output: string;
  /** Files of unlabelled lines (text columns only), in order. */
  sources: { file: string; name: string }[];
  /** Gold files (`text<TAB>label`, pairs: `a<TAB>b<TAB>label`) whose texts are left out. */
  gold: string[];
  textColumns: 1 | 2;
}

export interface PoolResult {
  lines: number;
  /** Lines taken from each source, by name. */
  bySource: Record<string, number>;
  duplicatesDropped: number;
  goldDropped: number;
}

export async function buildPool(options: PoolOptions): Promise<PoolResult> {
  const gold = new Set<string>();
  for (const file of options.gold) {
    const { examples } = await readClassificationFile(file, {
      kind: options.textColumns === 2 ? 'pair' : 'single',
    });
    for (const e of examples) gold.add(e.textB === undefined ? e.text : `${e.text}\t${e.textB}`);
  }
  const seen = new HashSet64();
  const result: PoolResult = { lines: 0, bySource: {}, duplicatesDropped: 0, goldDropped: 0 };
  await mkdir(path.dirname(options.output), { recursive: true });
  const tmp = `${options.output}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  let buffer = '';
  const flush = async () => {
    if (buffer !== '' && !out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  for (const { file, name } of options.sources) {
    result.bySource[name] = 0;
    for await (const line of readLines(file)) {
      const fields = line.text.split('\t');
      if (fields.length !== options.textColumns || fields.some((f) => f.trim() === '')) {
        const want = options.textColumns === 1 ? '1 column (text)' : '2 columns (text_a, text_b)';
        throw new InputError(
          { file, line: line.number },
          `expected ${want} of non-empty unlabelled text, found ${fields.length} column(s)`,
        );
      }
      if (gold.has(line.text)) result.goldDropped++;
      else if (!seen.add(line.text)) result.duplicatesDropped++;
      else {
        buffer += line.text + '\n';
        result.lines++;
        result.bySource[name]++;
        if (buffer.length >= 1 << 16) await flush();
      }
    }
  }
  await flush();
  await new Promise<void>((done, fail) => out.end((err?: Error | null) => (err ? fail(err) : done())));
  await rename(tmp, options.output);
  return result;
}
