import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  labelFile,
  progressFile,
  type LabelBatch,
  type LabelFileOptions,
  type TextRow,
} from '../../../src/distill/data/label-file.js';
import { InputError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/tiny-data.js';

const dir = tempDir('alembic-label-');
after(() => rmSync(dir, { recursive: true, force: true }));

// 103 distinct texts; the fake teacher's label is the text length's parity, p(odd) = length / 100.
const texts = Array.from({ length: 103 }, (_, i) => `句子${'好'.repeat(i % 7)}${i}`);
const input = path.join(dir, 'pool.txt');
writeFileSync(input, texts.join('\n') + '\n');
const expectedLine = (t: string) => {
  const odd = [...t].length / 100;
  return `${t}\t${[...t].length % 2 ? 'odd' : 'even'}\t${(1 - odd).toFixed(6)} ${odd.toFixed(6)}`;
};
const expected = texts.map((t) => expectedLine(t) + '\n').join('');

/** A fake teacher that records every row it is asked to label. */
function teacher(seen: string[]): LabelBatch {
  return (rows: TextRow[]) =>
    rows.map((r) => {
      seen.push(r.text);
      const n = [...r.text].length;
      return { label: n % 2 ? 'odd' : 'even', probabilities: [1 - n / 100, n / 100] };
    });
}

let runNo = 0;
function options(seen: string[], extra: Partial<LabelFileOptions> = {}): LabelFileOptions {
  return {
    input,
    output: path.join(dir, `part.1.${runNo}`),
    textColumns: 1,
    label: teacher(seen),
    batchSize: 10,
    probabilities: true,
    fingerprint: 'teacher-A',
    syncEvery: 20,
    ...extra,
  };
}

/** Labels with a signal aborted once `stopAt` lines are done: the run stops after that batch. */
async function interruptedRun(opts: LabelFileOptions, stopAt: number) {
  const stop = new AbortController();
  return labelFile({
    ...opts,
    signal: stop.signal,
    onProgress: (done) => {
      if (done >= stopAt) stop.abort();
    },
  });
}

test('an uninterrupted run labels every line once, in order, with the probabilities', async () => {
  runNo++;
  const seen: string[] = [];
  const r = await labelFile(options(seen));
  assert.deepEqual(r, { total: 103, labelled: 103, resumedAt: 0, complete: true });
  assert.equal(readFileSync(options([]).output, 'utf8'), expected);
  assert.deepEqual(seen, texts);
  const marker = JSON.parse(readFileSync(progressFile(options([]).output), 'utf8'));
  assert.equal(marker.lines, 103);
  assert.equal(marker.complete, true);
  assert.equal(marker.bytes, Buffer.byteLength(expected));
  // Running again finds the work done and asks the teacher nothing.
  const again: string[] = [];
  assert.equal((await labelFile(options(again))).labelled, 0);
  assert.deepEqual(again, []);
});

test('after an interruption, labelling continues at the next line: no duplicates, no gaps', async () => {
  runNo++;
  const first: string[] = [];
  const stopped = await interruptedRun(options(first), 45);
  // Stopped after the batch that reached line 45, i.e. at line 50.
  assert.deepEqual(stopped, { total: 103, labelled: 50, resumedAt: 0, complete: false });
  assert.equal(
    readFileSync(options([]).output, 'utf8'),
    texts
      .slice(0, 50)
      .map((t) => expectedLine(t) + '\n')
      .join(''),
  );

  const second: string[] = [];
  const resumed = await labelFile(options(second));
  assert.deepEqual(resumed, { total: 103, labelled: 53, resumedAt: 50, complete: true });
  assert.deepEqual(second, texts.slice(50), 'the teacher is asked only about the lines not yet labelled');
  assert.equal(readFileSync(options([]).output, 'utf8'), expected);
});

test('a crash after the last durable point: unrecorded and half-written lines are cut and redone', async () => {
  runNo++;
  const opts = options([]);
  await interruptedRun(opts, 20); // durable at 20 lines
  // The crash: 7 more complete lines and half of one reached the file, but not the progress marker.
  appendFileSync(
    opts.output,
    texts
      .slice(20, 27)
      .map((t) => expectedLine(t) + '\n')
      .join('') + '句子半',
  );
  const seen: string[] = [];
  const r = await labelFile(options(seen));
  assert.equal(r.resumedAt, 20);
  assert.deepEqual(seen, texts.slice(20));
  assert.equal(readFileSync(opts.output, 'utf8'), expected);
});

test('a progress marker from another teacher, or output that does not match the input, starts over', async () => {
  runNo++;
  const opts = options([]);
  await interruptedRun(opts, 30);
  const seen: string[] = [];
  const logs: string[] = [];
  const r = await labelFile(options(seen, { fingerprint: 'teacher-B', log: (l) => logs.push(l) }));
  assert.equal(r.resumedAt, 0);
  assert.deepEqual(seen, texts);
  assert.match(logs.join('\n'), /starting over/);

  runNo++;
  const opts2 = options([]);
  await interruptedRun(opts2, 30);
  // Someone edited a labelled line's text: the output no longer lines up with the input.
  const edited = readFileSync(opts2.output, 'utf8').replace(texts[3], texts[3].replace('句', '字'));
  writeFileSync(opts2.output, edited);
  const seen2: string[] = [];
  const r2 = await labelFile(options(seen2, { log: () => {} }));
  assert.equal(r2.resumedAt, 0);
  assert.equal(readFileSync(opts2.output, 'utf8'), expected);
});

test('hard labels only: two columns; pair input keeps both texts', async () => {
  runNo++;
  const pairs = path.join(dir, 'pairs.txt');
  writeFileSync(pairs, '甲\t乙\n丙丁\t戊\n');
  const out = path.join(dir, 'pairs.out');
  await labelFile({
    ...options([]),
    input: pairs,
    output: out,
    textColumns: 2,
    probabilities: false,
    label: (rows) => rows.map((r) => ({ label: r.textB!, probabilities: [1] })),
  });
  assert.equal(readFileSync(out, 'utf8'), '甲\t乙\t乙\n丙丁\t戊\t戊\n');
});

test('a line with the wrong number of text columns is an input error naming file and line', async () => {
  runNo++;
  const bad = path.join(dir, 'bad.txt');
  writeFileSync(bad, '好\n坏\t负面\n');
  await assert.rejects(labelFile({ ...options([]), input: bad }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /bad\.txt:2: expected 1 column \(text\) of unlabelled text, found 2/);
    return true;
  });
});
