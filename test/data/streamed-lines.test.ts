/**
 * The pieces of a streamed training file against brute force: line byte ranges against the file's bytes,
 * the epoch order against the in-memory trainer's batchIndices, examples read back through the line index
 * against the in-memory reader on the same file, and the vocabulary and labels counted one example at a
 * time against `fit` over all of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readLines } from '../../src/data/line-reader.js';
import {
  readClassificationFile,
  type ClassificationReadOptions,
} from '../../src/data/readers/classification.js';
import type { ClassificationExample } from '../../src/data/readers/types.js';
import { classificationTable } from '../../src/data/readers/classification.js';
import { tableLineParser } from '../../src/data/readers/read-table.js';
import { batchOf, epochOrder, indexDataFile, StreamedLines } from '../../src/data/streamed-lines.js';
import { StreamedBatches } from '../../src/data/streamed-batches.js';
import { batchIndices } from '../../src/nets/batching.js';
import { parseConfig } from '../../src/config/run-config.js';
import { ClassificationTask } from '../../src/tasks/classification.js';
import { epochRng, Rng } from '../../src/util/rng.js';
import { InputError, UserError } from '../../src/util/errors.js';
import { sentimentExample, tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-streaming-');
let files = 0;
function file(name: string, content: string | Uint8Array): string {
  const p = path.join(dir, `${files++}-${name}`);
  writeFileSync(p, content);
  return p;
}

test('every line read with offsets is exactly the bytes of the file in its range', async () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  for (const [body, count] of [
    ['héllo\tα\r\n第二行\t标签\nplain\r\n  last line without a break', 4],
    ['第一行\r\nsecond\n\n\r\n', 2],
  ] as const) {
    const p = file('ranges.tsv', Buffer.concat([bom, Buffer.from(body)]));
    const bytes = readFileSync(p);
    const lines = [];
    for await (const line of readLines(p, { offsets: true })) lines.push(line);
    assert.equal(lines.length, count);
    for (const line of lines) {
      assert.equal(bytes.subarray(line.offset, line.end).toString('utf8'), line.text, `line ${line.number}`);
    }
    // Without the option, lines are as before: number and text only.
    for await (const line of readLines(p)) assert.deepEqual(Object.keys(line), ['number', 'text']);
  }
});

test('an epoch order draws exactly the batches batchIndices draws from the same generator', () => {
  for (const [n, batchSize, seed] of [
    [1, 4, 1],
    [10, 3, 42],
    [97, 16, 7],
    [256, 32, 0],
  ]) {
    for (const epoch of [0, 1, 5]) {
      const expected = batchIndices(n, batchSize, epochRng(seed, epoch));
      const order = epochOrder(n, epochRng(seed, epoch));
      const got = expected.map((_, b) => Array.from(batchOf(order, b, batchSize)));
      assert.deepEqual(got, expected, `n ${n}, batch ${batchSize}, seed ${seed}, epoch ${epoch}`);
    }
  }
});

/** Indexes `p` through the reader's own pass and reads every example back in a shuffled order. */
async function throughIndex(p: string, options: ClassificationReadOptions, seed: number) {
  const indexFile = path.join(dir, `${files++}.idx`);
  const index = await indexDataFile(p, indexFile, async (onExample) => {
    await readClassificationFile(p, { ...options, each: (_e, place) => onExample(place) });
  });
  const lines = new StreamedLines(index);
  const parse = tableLineParser(p, options, classificationTable(p, options), lines.firstLine());
  const order = epochOrder(lines.count, new Rng(seed));
  const examples = lines.read(order).map(parse);
  lines.close();
  return { order, examples };
}

const KINDS: { name: string; content: () => string; options: ClassificationReadOptions }[] = [
  {
    name: 'tsv.tsv',
    content: () => sentimentLines(60, 1).join('\n') + '\n',
    options: {},
  },
  {
    name: 'header-crlf.tsv',
    content: () => ['label\ttext', ...sentimentLines(40, 2).map(swapColumns)].join('\r\n'),
    options: {},
  },
  {
    name: 'pairs.jsonl',
    content: () =>
      sentimentLines(30, 3)
        .map((l, i) =>
          JSON.stringify({ text_a: l.split('\t')[0], text_b: `第${i}句`, label: l.split('\t')[1] }),
        )
        .join('\n') + '\n',
    options: { kind: 'pair' },
  },
  {
    name: 'bad-lines-skipped.tsv',
    content: () => {
      const lines = sentimentLines(50, 4);
      lines[3] = 'no label column';
      lines[20] = '\tempty text';
      return lines.join('\n') + '\n';
    },
    options: { skipBadLines: true, onWarning: () => {} },
  },
  {
    name: 'multi.tsv',
    content: () =>
      sentimentLines(30, 5)
        .map((l, i) => `${l} ${i % 3 === 0 ? '长' : '短'}`)
        .join('\n'),
    options: { kind: 'multi_label' },
  },
  {
    // Quoted fields holding commas, quotes and line breaks: a record is read back from its own bytes.
    name: 'quoted.csv',
    content: () =>
      [
        'label,text,source',
        ...sentimentLines(40, 12).map((l, i) => {
          const [text, label] = l.split('\t');
          const quoted = i % 3 === 0 ? `"${text},\n""${i}""\n"` : text;
          return `${label},${quoted},s${i}`;
        }),
      ].join('\n') + '\n',
    options: {},
  },
  {
    name: 'features-crlf.csv',
    content: () =>
      [
        'text,price,label',
        ...sentimentLines(30, 13).map((l, i) => {
          const [text, label] = l.split('\t');
          return `"${text}\r\n第${i}行",${(i * 1.5).toFixed(1)},${label}`;
        }),
      ].join('\r\n'),
    options: { numericFeatures: ['price'] },
  },
];

for (const kind of KINDS) {
  test(`examples read back through the index equal the in-memory reader's (${kind.name})`, async () => {
    const p = file(kind.name, kind.content());
    const { examples: all } = await readClassificationFile(p, kind.options);
    for (const seed of [1, 2]) {
      const { order, examples } = await throughIndex(p, kind.options, seed);
      assert.equal(order.length, all.length);
      assert.deepEqual(
        examples,
        Array.from(order, (i) => all[i]),
      );
    }
  });
}

test('a bad line stops the indexing pass with its file, line and field, before any batch is read', async () => {
  const lines = sentimentLines(20, 6);
  lines[11] = '\t正面';
  const p = file('bad.tsv', lines.join('\n'));
  const indexFile = path.join(dir, 'bad.idx');
  await assert.rejects(
    indexDataFile(p, indexFile, async (onExample) => {
      await readClassificationFile(p, { each: (_e, place) => onExample(place) });
    }),
    (error: unknown) =>
      error instanceof InputError && /bad\.tsv:12/.test(error.message) && /text/.test(error.message),
  );
});

test('a data file changed after indexing stops the next batch with one line naming the file', async () => {
  const p = file('changing.tsv', sentimentLines(30, 7).join('\n') + '\n');
  const { examples: all } = await readClassificationFile(p);
  const index = await indexDataFile(p, path.join(dir, 'changing.idx'), async (onExample) => {
    await readClassificationFile(p, { each: (_e, place) => onExample(place) });
  });
  const lines = new StreamedLines(index);
  const parse = tableLineParser(p, {}, classificationTable(p, {}), lines.firstLine());
  const batches = new StreamedBatches(lines, parse, (e) => e, 8, 3);
  const first = batches.next();
  assert.equal(first.features.length, 8);
  const order = epochOrder(all.length, epochRng(3, 0));
  assert.deepEqual(
    first.features,
    Array.from(batchOf(order, 0, 8), (i) => all[i]),
  );
  appendFileSync(p, '新的一行\t正面\n');
  assert.throws(
    () => batches.next(),
    (error: unknown) =>
      error instanceof UserError &&
      error.message.includes(p) &&
      /changed/.test(error.message) &&
      !error.message.includes('\n'),
  );
  batches.close();
});

test('the streamed batches resume at a saved position with the batches an uninterrupted run draws', async () => {
  const p = file('resume.tsv', sentimentLines(23, 8).join('\n'));
  const index = await indexDataFile(p, path.join(dir, 'resume.idx'), async (onExample) => {
    await readClassificationFile(p, { each: (_e, place) => onExample(place) });
  });
  const lines = new StreamedLines(index);
  const parse = tableLineParser(p, {}, classificationTable(p, {}), lines.firstLine());
  const whole = new StreamedBatches(lines, parse, (e) => e.line, 5, 9);
  const run = Array.from({ length: 13 }, () => whole.next());
  assert.deepEqual(
    run.map((b) => b.epoch),
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2],
  );
  const stopAt = 7;
  const interrupted = new StreamedBatches(lines, parse, (e) => e.line, 5, 9);
  for (let i = 0; i < stopAt; i++) interrupted.next();
  const position = interrupted.position();
  assert.deepEqual(position, { epoch: 1, batchInEpoch: 2 });
  const resumed = new StreamedBatches(lines, parse, (e) => e.line, 5, 9);
  resumed.seek(position);
  assert.deepEqual(
    Array.from({ length: 13 - stopAt }, () => resumed.next()),
    run.slice(stopAt),
  );
  lines.close();
});

test('a CSV header row that spans lines cannot be read back on its own: one line saying so', () => {
  const p = file('header.csv', '"te\nxt",label\n好,正面\n');
  assert.throws(
    () => tableLineParser(p, {}, classificationTable(p, {}), { number: 1, text: '"te' }),
    (error: unknown) => error instanceof InputError && error.message.startsWith(`${p}:1:`),
  );
});

test('vocabulary, labels and an "auto" tokenizer fitted one example at a time equal fit over all examples', async () => {
  // Past the auto tokenizer's sample of 2000 texts, so the choice is made part way through the stream.
  const texts = sentimentLines(2500, 10);
  texts.push('a few English words\t正面', 'mixed 中文 words\t中性');
  const p = file('fit.tsv', texts.join('\n'));
  // dataset.vocab.from: the vocabulary is counted on other texts, the labels still on the training file.
  const other = sentimentLines(300, 11).map((l) => ({ text: l.split('\t')[0], label: '正面' }));
  for (const [task, extra, vocabSource] of [
    ['text_classification', {}, undefined],
    ['text_classification', { vocab: { min_freq: 2, max_size: 30 } }, undefined],
    ['multi_label_classification', {}, undefined],
    ['text_classification', {}, other],
  ] as const) {
    const config = () =>
      parseConfig(
        {
          task,
          dataset: { train: p, ...extra },
          model: { net: 'bow' },
          trainer: { output_dir: path.join(dir, 'unused') },
        },
        path.join(dir, 'config.json'),
      );
    const inMemory = new ClassificationTask(config());
    inMemory.fit(await inMemory.read(p, { labelled: true }), vocabSource);
    const streamed = new ClassificationTask(config());
    const support = streamed.streaming();
    const fitter = support.fitter(vocabSource !== undefined);
    vocabSource?.forEach((e) => fitter.vocab(e));
    await support.readEach(p, (e: ClassificationExample) => fitter.add(e));
    fitter.finish();
    assert.equal(streamed.config.dataset.tokenizer.type, inMemory.config.dataset.tokenizer.type);
    assert.deepEqual(streamed.codec.vocab.tokens, inMemory.codec.vocab.tokens);
    assert.deepEqual(streamed.state(), inMemory.state());
  }
});

test('numeric feature statistics fitted one example at a time equal a two-pass mean and spread', async () => {
  const rng = new Rng(14);
  const rows = sentimentLines(500, 15).map((l) => {
    const [text, label] = l.split('\t');
    return { text, label, price: 1e6 + rng.next() * 10, flat: 3 };
  });
  const p = file(
    'numeric.tsv',
    ['text\tlabel\tprice\tflat', ...rows.map((r) => `${r.text}\t${r.label}\t${r.price}\t${r.flat}`)].join(
      '\n',
    ),
  );
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: p, numeric_features: ['price', 'flat'] },
      model: { net: 'bow' },
      trainer: { output_dir: path.join(dir, 'unused') },
    },
    path.join(dir, 'config.json'),
  );
  const streamed = new ClassificationTask(config);
  const support = streamed.streaming();
  const fitter = support.fitter(false);
  await support.readEach(p, (e: ClassificationExample) => fitter.add(e));
  fitter.finish();
  const inMemory = new ClassificationTask(config);
  inMemory.fit(await inMemory.read(p, { labelled: true }));
  assert.deepEqual(streamed.state(), inMemory.state());
  // Against the textbook two passes: the mean, then the root mean squared deviation from it.
  const mean = rows.reduce((s, r) => s + r.price, 0) / rows.length;
  const std = Math.sqrt(rows.reduce((s, r) => s + (r.price - mean) ** 2, 0) / rows.length);
  const { numeric } = streamed.state();
  assert.ok(Math.abs(numeric.mean[0] - mean) < 1e-9 * mean, `${numeric.mean[0]} vs ${mean}`);
  assert.ok(Math.abs(numeric.std[0] - std) < 1e-6 * std, `${numeric.std[0]} vs ${std}`);
  // A constant feature keeps its value: its spread is taken as 1.
  assert.deepEqual([numeric.mean[1], numeric.std[1]], [3, 1]);
});

function sentimentLines(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const e = sentimentExample(rng);
    return `${e.text}\t${e.label}`;
  });
}

function swapColumns(line: string): string {
  const [text, label] = line.split('\t');
  return `${label}\t${text}`;
}
