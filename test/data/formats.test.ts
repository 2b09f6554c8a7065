import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readClassificationFile } from '../../src/data/readers/classification.js';
import { readSequenceFile } from '../../src/data/readers/sequence.js';
import { detectMatchingFormat, readMatchingFile, readPointwiseFile } from '../../src/data/readers/matching.js';
import { readGenerationFile, readLanguageModelText } from '../../src/data/readers/generation.js';
import { dataFormatOf } from '../../src/data/readers/data-format.js';
import type { ReaderOptions } from '../../src/data/readers/types.js';
import { InputError, UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-formats-');
let fileCount = 0;
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, `${fileCount++}-${name}`);
  writeFileSync(path, content);
  return path;
}

async function rejectsWith(
  run: () => Promise<unknown>,
  parts: string[],
  type: new (...args: never[]) => Error = InputError,
) {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    for (const part of parts)
      assert.ok((error as Error).message.includes(part), `"${(error as Error).message}" lacks "${part}"`);
    return true;
  });
}

const jsonl = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
type Read = (file: string, options?: ReaderOptions) => Promise<unknown>;
const single: Read = (f, o) => readClassificationFile(f, o);
const multi: Read = (f, o) => readClassificationFile(f, { ...o, kind: 'multi_label' });
const features: Read = (f, o) => readClassificationFile(f, { ...o, numericFeatures: ['price', 'ctr'] });

/**
 * The TSV readers' bad inputs (test/data/readers.test.ts), each written in the three formats: every
 * format must stop at the same record with an error naming file, line and field.
 */
const BAD_INPUTS: {
  name: string;
  read: Read;
  tsv: [string, string];
  csv: [string, string];
  jsonl: [string, string];
}[] = [
  {
    name: 'a record with too many or too few fields',
    read: single,
    tsv: ['a\tpos\nb\tpos\textra\n', ':2: expected 2 columns (text, label), found 3'],
    csv: [
      'text,label\na,pos\nb,pos,extra\n',
      ':3: expected 2 fields, as in the header (text, label), found 3',
    ],
    jsonl: [jsonl({ text: 'a', label: 'pos' }, { text: 'b' }), ':2: label: missing (the record has text)'],
  },
  {
    name: 'an empty label',
    read: single,
    tsv: ['a\tpos\nb\t \n', ':2: label: is empty'],
    csv: ['text,label\na,pos\nb, \n', ':3: label: is empty'],
    jsonl: [jsonl({ text: 'a', label: 'pos' }, { text: 'b', label: ' ' }), ':2: label: is empty'],
  },
  {
    name: 'an empty text',
    read: single,
    tsv: [' \tpos\n', ':1: text: is empty'],
    csv: ['text,label\n" ",pos\n', ':2: text: is empty'],
    jsonl: [jsonl({ text: '', label: 'pos' }), ':1: text: is empty'],
  },
  {
    name: 'a label listed twice',
    read: multi,
    tsv: ['a\t1 2 1\n', ':1: label: "1" is listed twice'],
    csv: ['text,label\na,1 2 1\n', ':2: label: "1" is listed twice'],
    jsonl: [jsonl({ text: 'a', label: ['1', '2', '1'] }), ':1: label: "1" is listed twice'],
  },
  {
    name: 'a feature that is not a number',
    read: features,
    tsv: ['text_a\tlabel\tprice\tctr\na\tx\t1\t0.1\nb\ty\t2\tabc\n', ':3: ctr: "abc" is not a number'],
    csv: ['text_a,label,price,ctr\na,x,1,0.1\nb,y,2,abc\n', ':3: ctr: "abc" is not a number'],
    jsonl: [
      jsonl({ text: 'a', label: 'x', price: 1, ctr: 0.1 }, { text: 'b', label: 'y', price: 2, ctr: 'abc' }),
      ':2: ctr: "abc" is not a number',
    ],
  },
  {
    name: 'a feature missing',
    read: features,
    tsv: ['text_a\tlabel\tprice\n', ':1: ctr: column missing from the header'],
    csv: ['text_a,label,price\na,x,1\n', ':1: ctr: column missing from the header'],
    jsonl: [jsonl({ text: 'a', label: 'x', price: 1 }), ':1: ctr: missing'],
  },
  {
    name: 'tokens and tags that do not pair up',
    read: (f, o) => readSequenceFile(f, o),
    tsv: ['a b\tO O\nx y z\tO O O O\n', ':2: tags: 3 tokens but 4 tags'],
    csv: ['tokens,tags\na b,O O\nx y z,O O O O\n', ':3: tags: 3 tokens but 4 tags'],
    jsonl: [
      jsonl(
        { tokens: ['a', 'b'], tags: ['O', 'O'] },
        { tokens: ['x', 'y', 'z'], tags: ['O', 'O', 'O', 'O'] },
      ),
      ':2: tags: 3 tokens but 4 tags',
    ],
  },
  {
    name: 'a matching score that is not a number',
    read: (f, o) => readPointwiseFile(f, o),
    tsv: ['q\td\tyes\n', ':1: label: "yes" is not a number (0/1 or a score)'],
    csv: ['text_a,text_b,label\nq,d,yes\n', ':2: label: "yes" is not a number (0/1 or a score)'],
    jsonl: [
      jsonl({ text_a: 'q', text_b: 'd', label: 'yes' }),
      ':1: label: "yes" is not a number (0/1 or a score)',
    ],
  },
  {
    name: 'an empty generation target',
    read: (f, o) => readGenerationFile(f, o),
    tsv: ['x\t \n', ':1: target: is empty'],
    csv: ['source,target\nx,\n', ':2: target: is empty'],
    jsonl: [jsonl({ source: 'x', target: '' }), ':1: target: is empty'],
  },
  {
    name: 'a blank line in the middle',
    read: single,
    tsv: ['a\tpos\n\nb\tneg\n', ':2: empty line'],
    csv: ['text,label\na,pos\n\nb,neg\n', ':3: empty line'],
    jsonl: [jsonl({ text: 'a', label: 'pos' }) + '\n' + jsonl({ text: 'b', label: 'neg' }), ':2: empty line'],
  },
];

for (const format of ['tsv', 'csv', 'jsonl'] as const) {
  test(`bad inputs in ${format}: the same table, file, line and field`, async () => {
    for (const bad of BAD_INPUTS) {
      const [content, message] = bad[format];
      const path = file(`${bad.name.replace(/\W+/g, '-')}.${format}`, content);
      await rejectsWith(() => bad.read(path), [`${path}${message}`]);
    }
  });
}

test('invalid UTF-8 and empty files, in every format', async () => {
  const latin1 = (head: string, row: string) =>
    Uint8Array.from([...Buffer.from(head), ...Buffer.from(row), 0xe9, 0x0a]);
  await rejectsWith(
    () => single(file('latin1.csv', latin1('text,label\n', 'caf,'))),
    [':2: not valid UTF-8'],
  );
  await rejectsWith(
    () => single(file('latin1.jsonl', latin1('{"text":"a","label":"b"}\n', '{"text":"caf'))),
    [':2: not valid UTF-8'],
  );
  for (const ext of ['tsv', 'csv', 'jsonl']) {
    await rejectsWith(() => single(file(`empty.${ext}`, '\n')), ['file is empty'], UserError);
  }
});

test('CSV: quoted fields hold commas, quotes and line breaks; lines are where records start', async () => {
  const path = file(
    'quoted.csv',
    'id,text,label\r\n1,"好, ""很好""",pos\r\n2,"第一行\n第二行\n第三行",neg\r\n3,plain,pos\r\n\r\n',
  );
  const { examples } = await readClassificationFile(path);
  assert.deepEqual(examples, [
    { text: '好, "很好"', label: 'pos', line: 2 },
    { text: '第一行\n第二行\n第三行', label: 'neg', line: 3 },
    { text: 'plain', label: 'pos', line: 6 },
  ]);
  await rejectsWith(
    () => single(file('after-quote.csv', 'text,label\n"a\nb",pos\nc,\n')),
    ['after-quote.csv:4: label: is empty'],
  );
  await rejectsWith(
    () => single(file('unclosed.csv', 'text,label\na,pos\n"never closed,pos\nb,neg\n')),
    ['unclosed.csv:3: CSV: a quoted field is never closed'],
  );
  await rejectsWith(
    () => single(file('noheader.csv', '好看,pos\n')),
    ['noheader.csv:1: header: a CSV file starts with a header row naming its columns (text, label)'],
  );
  await rejectsWith(
    () => single(file('nolabel.csv', 'text,lable\na,b\n')),
    ['nolabel.csv:1: label: column missing from the header (it has text, lable)'],
  );
  // Pair and multi-label, Hugging Face's spelling text_pair, and a label column ignored for predict.
  const pair = await readClassificationFile(file('pair.csv', 'text,text_pair,label\na,b,1\n'), {
    kind: 'pair',
  });
  assert.deepEqual(pair.examples, [{ text: 'a', textB: 'b', label: '1', line: 2 }]);
  const unlabelled = await readClassificationFile(file('predict.csv', 'text,label\nx,y\n'), {
    labelled: false,
  });
  assert.deepEqual(unlabelled.examples, [{ text: 'x', line: 2 }]);
});

test('JSON Lines: every task shape, types checked, bad JSON located', async () => {
  const pair = await readClassificationFile(
    file('pair.jsonl', jsonl({ text_a: 'a', text_b: 'b', label: 1, id: 7 })),
    { kind: 'pair' },
  );
  assert.deepEqual(pair.examples, [{ text: 'a', textB: 'b', label: '1', line: 1 }]);
  const multiLabel = await readClassificationFile(
    file('multi.jsonl', jsonl({ text: 'x', labels: ['a', 'b'] })),
    {
      kind: 'multi_label',
    },
  );
  assert.deepEqual(multiLabel.examples[0].labels, ['a', 'b']);
  const seq = await readSequenceFile(
    file('seq.jsonl', jsonl({ tokens: ['北', '京 市'], tags: ['B-LOC', 'I-LOC'] })),
  );
  assert.deepEqual(seq.examples, [{ tokens: ['北', '京 市'], tags: ['B-LOC', 'I-LOC'], line: 1 }]);
  const gen = await readGenerationFile(file('gen.jsonl', jsonl({ source: '静夜思', target: '床前明月光' })));
  assert.deepEqual(gen.examples, [{ source: '静夜思', target: '床前明月光', line: 1 }]);
  const lm = await readLanguageModelText(file('lm.jsonl', jsonl({ text: '春眠不觉晓' })));
  assert.deepEqual(lm.examples, [{ text: '春眠不觉晓', line: 1 }]);

  const pairwise = file('pw.jsonl', jsonl({ query: 'q', positive: 'p', negative: 'n' }));
  assert.equal(await detectMatchingFormat(pairwise), 'pairwise');
  const read = await readMatchingFile(pairwise);
  assert.deepEqual(read.examples, [{ query: 'q', positive: 'p', negative: 'n', line: 1 }]);
  const pointwise = file('pt.csv', 'text_a,text_b,label\nq,d,0.5\n');
  assert.equal(await detectMatchingFormat(pointwise), 'pointwise');
  assert.deepEqual((await readMatchingFile(pointwise)).examples, [
    { textA: 'q', textB: 'd', score: 0.5, line: 2 },
  ]);
  assert.equal(await detectMatchingFormat(file('pw.csv', 'query,positive,negative\nq,p,n\n')), 'pairwise');

  await rejectsWith(
    () => single(file('syntax.jsonl', jsonl({ text: 'a', label: 'b' }) + '{"text": "a",}\n')),
    ['syntax.jsonl:2: invalid JSON at column 14'],
  );
  await rejectsWith(
    () => single(file('array.jsonl', '["a", "b"]\n')),
    ['array.jsonl:1: each line must be a JSON object with the fields text, label'],
  );
  await rejectsWith(
    () => single(file('type.jsonl', jsonl({ text: 5, label: 'b' }))),
    ['type.jsonl:1: text: must be a string, found a number'],
  );
  await rejectsWith(
    () => readSequenceFile(file('tok.jsonl', jsonl({ tokens: ['a', null], tags: ['O', 'O'] }))),
    ['tok.jsonl:1: tokens[1]: must be a string, found null'],
  );
  await rejectsWith(
    () => single(file('twice.jsonl', jsonl({ text: 'a', text_a: 'b', label: 'c' }))),
    ['twice.jsonl:1: text_a: given twice (also as text)'],
  );
});

test('skipBadLines skips bad CSV records and JSON lines alike', async () => {
  for (const [ext, content] of [
    ['csv', 'text,label\na,pos\nb\nc,neg\n'],
    ['jsonl', jsonl({ text: 'a', label: 'pos' }, { text: 'b' }, { text: 'c', label: 'neg' })],
  ]) {
    const warnings: string[] = [];
    const result = await readClassificationFile(file(`mixed.${ext}`, content), {
      skipBadLines: true,
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual(
      result.examples.map((e) => e.text),
      ['a', 'c'],
    );
    assert.equal(result.skipped, 1);
    assert.equal(warnings.length, 1);
  }
});

test('the format comes from the extension, else dataset.format; TSV errors name the other formats', async () => {
  assert.equal(dataFormatOf('a/b.CSV'), 'csv');
  assert.equal(dataFormatOf('b.ndjson', 'csv'), 'jsonl');
  assert.equal(dataFormatOf('b.txt', 'csv'), 'csv');
  assert.equal(dataFormatOf('b.txt'), 'tsv');
  const commas = file('train.txt', 'text,label\n"a, b",pos\n');
  assert.deepEqual((await readClassificationFile(commas, { format: 'csv' })).examples, [
    { text: 'a, b', label: 'pos', line: 2 },
  ]);
  await rejectsWith(
    () => readClassificationFile(file('plain.txt', 'good movie,pos\n')),
    [
      'plain.txt:1: expected 2 columns (text, label), found 1 (this line looks comma-separated',
      'alembic reads .tsv, .csv and .jsonl files',
    ],
  );
  await rejectsWith(
    () => readClassificationFile(file('json.txt', '{"text": "a", "label": "b"}\n')),
    ['this line looks like a JSON object'],
  );
});
