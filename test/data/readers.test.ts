import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { readLines, readLinesSync, type Line } from '../../src/data/line-reader.js';
import { readClassificationFile } from '../../src/data/readers/classification.js';
import { readSequenceFile } from '../../src/data/readers/sequence.js';
import {
  detectMatchingFormat,
  readMatchingFile,
  readPairwiseFile,
  readPointwiseFile,
} from '../../src/data/readers/matching.js';
import { readReadingComprehensionJson } from '../../src/data/readers/reading-comprehension.js';
import { readGenerationFile, readLanguageModelText, stripFrame } from '../../src/data/readers/generation.js';
import { LabelMap } from '../../src/data/readers/label-map.js';
import { findJsonErrorOffset, positionAt } from '../../src/data/readers/json-position.js';
import { InputError, UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-readers-');
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes a file into the temp folder; `name` keeps messages readable. */
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, `${fileCount++}-${name}`);
  writeFileSync(path, content);
  return path;
}

/** Asserts that `run` rejects with an InputError whose message has every one of `parts`. */
async function rejectsWith(
  run: () => Promise<unknown> | unknown,
  parts: string[],
  type: new (...args: never[]) => Error = InputError,
): Promise<void> {
  await assert.rejects(
    async () => run(),
    (error: unknown) => {
      assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
      for (const part of parts)
        assert.ok((error as Error).message.includes(part), `"${(error as Error).message}" lacks "${part}"`);
      return true;
    },
  );
}

async function collect(path: string, options = {}): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const line of readLines(path, options)) lines.push(line);
  return lines;
}

// ---- line reader ----

test('line reader: BOM, CRLF and trailing blank lines; numbers from 1', async () => {
  const path = file('a.txt', '\uFEFFone\r\ntwo\r\n  three \n\n\r\n  \n');
  const expected = [
    { number: 1, text: 'one' },
    { number: 2, text: 'two' },
    { number: 3, text: '  three ' },
  ];
  assert.deepEqual(await collect(path), expected);
  assert.deepEqual(readLinesSync(path), expected);
  assert.deepEqual(await collect(file('b.txt', 'x\ny')), [
    { number: 1, text: 'x' },
    { number: 2, text: 'y' },
  ]);
});

test('line reader: a blank line in the middle is an error, or a skipped bad line', async () => {
  const path = file('mid.tsv', 'a\n\n \nb\n');
  await rejectsWith(() => collect(path), ['mid.tsv:2: ', 'empty line']);
  const bad: InputError[] = [];
  const lines = await collect(path, { onBadLine: (e: InputError) => bad.push(e) });
  assert.deepEqual(
    lines.map((l) => l.number),
    [1, 4],
  );
  assert.deepEqual(
    bad.map((e) => e.location.line),
    [2, 3],
  );
});

test('line reader: invalid UTF-8 names the file and line', async () => {
  const path = file(
    'latin1.tsv',
    Uint8Array.from([0x6f, 0x6b, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a, 0x6f, 0x6b]),
  );
  await rejectsWith(() => collect(path), ['latin1.tsv:2: ', 'not valid UTF-8']);
  assert.throws(() => readLinesSync(path), /latin1\.tsv:2: not valid UTF-8/);
  const bad: InputError[] = [];
  assert.deepEqual(
    (await collect(path, { onBadLine: (e: InputError) => bad.push(e) })).map((l) => l.text),
    ['ok', 'ok'],
  );
  assert.equal(bad.length, 1);
});

test('line reader: over-long lines are counted in characters', async () => {
  await rejectsWith(
    () => collect(file('long.txt', 'ok\nabcdefgh\n'), { maxLineLength: 5 }),
    ['long.txt:2: ', 'line is 8 characters, over the limit of 5'],
  );
  // 6 characters in 18 bytes: measured in characters, not bytes.
  assert.deepEqual(
    (await collect(file('cjk.txt', '中文中文中\n'), { maxLineLength: 5 })).map((l) => l.text),
    ['中文中文中'],
  );
  await rejectsWith(
    () => collect(file('cjk6.txt', '中文中文中文\r\n'), { maxLineLength: 5 }),
    ['line is 6 characters, over the limit of 5'],
  );
  // Far over the limit the line is counted without being kept; CRLF is not a character.
  await rejectsWith(
    () => collect(file('huge.txt', 'x'.repeat(50) + '\r\nok\n'), { maxLineLength: 2 }),
    ['huge.txt:1: ', 'line is 50 characters, over the limit of 2'],
  );
});

test('line reader: empty and missing files', async () => {
  await rejectsWith(() => collect(file('empty.tsv', '')), ['empty.tsv: file is empty'], UserError);
  await rejectsWith(() => collect(file('blank.tsv', '\n \r\n')), ['blank.tsv: file is empty'], UserError);
  await rejectsWith(() => collect(join(dir, 'nope.tsv')), ['nope.tsv: no such file'], UserError);
  assert.throws(() => readLinesSync(join(dir, 'nope.tsv')), /nope\.tsv: no such file/);
});

test('line reader: characters split across read chunks decode correctly', async () => {
  const lines = Array.from({ length: 12000 }, (_, i) => `第${i}行，中文😀`);
  const path = file('big.txt', lines.join('\n') + '\n');
  const read = await collect(path);
  assert.equal(read.length, 12000);
  assert.deepEqual(
    read.map((l) => l.text),
    lines,
  );
  assert.equal(read[11999].number, 12000);
});

// ---- classification ----

test('classification: single, pair, multi-label and unlabelled files', async () => {
  const single = await readClassificationFile(file('single.tsv', '好看\tpos\n难看\tneg\n'));
  assert.deepEqual(single, {
    examples: [
      { text: '好看', label: 'pos', line: 1 },
      { text: '难看', label: 'neg', line: 2 },
    ],
    skipped: 0,
  });
  const pair = await readClassificationFile(file('pair.tsv', 'a b\tc d\t1\n'), { kind: 'pair' });
  assert.deepEqual(pair.examples, [{ text: 'a b', textB: 'c d', label: '1', line: 1 }]);
  const multi = await readClassificationFile(file('multi.tsv', 'x\t3 7\ny\tsports\n'), {
    kind: 'multi_label',
  });
  assert.deepEqual(
    multi.examples.map((e) => e.labels),
    [['3', '7'], ['sports']],
  );
  const unlabelled = await readClassificationFile(file('predict.tsv', 'just text\n'), { labelled: false });
  assert.deepEqual(unlabelled.examples, [{ text: 'just text', line: 1 }]);
});

test('classification: column count errors name the expected columns', async () => {
  await rejectsWith(
    () => readClassificationFile(file('cols.tsv', 'a\tpos\nb\tpos\textra\n')),
    ['cols.tsv:2: ', 'expected 2 columns (text, label), found 3'],
  );
  await rejectsWith(
    () => readClassificationFile(file('pair-cols.tsv', 'a\tb\n'), { kind: 'pair' }),
    ['pair-cols.tsv:1: ', 'expected 3 columns (text_a, text_b, label), found 2'],
  );
  await rejectsWith(
    () => readClassificationFile(file('pred-cols.tsv', 'a\tpos\n'), { labelled: false }),
    ['expected 1 column (text), found 2'],
  );
  await rejectsWith(
    () => readClassificationFile(file('empty-label.tsv', 'a\tpos\nb\t \n')),
    ['empty-label.tsv:2: label: is empty'],
  );
  await rejectsWith(
    () => readClassificationFile(file('empty-text.tsv', ' \tpos\n')),
    ['empty-text.tsv:1: text: is empty'],
  );
  await rejectsWith(
    () => readClassificationFile(file('twice.tsv', 'a\t1 2 1\n'), { kind: 'multi_label' }),
    ['twice.tsv:1: label: "1" is listed twice'],
  );
});

test('classification: numeric features need a header; errors name line and column', async () => {
  const options = { numericFeatures: ['price', 'ctr'] };
  const ok = await readClassificationFile(
    file('feat.tsv', 'ctr\tlabel\ttext_a\tprice\n0.5\tclick\t好\t12\n'),
    options,
  );
  assert.deepEqual(ok.examples, [{ text: '好', label: 'click', features: { ctr: 0.5, price: 12 }, line: 2 }]);
  await rejectsWith(
    () => readClassificationFile(file('nofeat.tsv', 'text_a\tlabel\tprice\n'), options),
    ['nofeat.tsv:1: ctr: column missing from the header'],
  );
  await rejectsWith(
    () => readClassificationFile(file('noheader.tsv', '好\tclick\t12\t0.5\n'), options),
    ['noheader.tsv:1: header: line 1 must be a header row'],
  );
  await rejectsWith(
    () => readClassificationFile(file('extra.tsv', 'text_a\tlabel\tprice\tctr\tprcie\n'), options),
    ['extra.tsv:1: prcie: unexpected column'],
  );
  await rejectsWith(
    () =>
      readClassificationFile(
        file('nan.tsv', 'text_a\tlabel\tprice\tctr\na\tx\t1\t0.1\nb\ty\t2\tabc\n'),
        options,
      ),
    ['nan.tsv:3: ctr: "abc" is not a number'],
  );
  // Without numeric features a header row is optional and recognised by its names.
  const headed = await readClassificationFile(file('headed.tsv', 'text_a\tlabel\nhi\tgreet\n'));
  assert.deepEqual(headed.examples, [{ text: 'hi', label: 'greet', line: 2 }]);
  await rejectsWith(
    () => readClassificationFile(file('clash.tsv', 'x\ty\n'), { numericFeatures: ['label'] }),
    ['numeric_features: "label"'],
    UserError,
  );
});

test('classification: skipBadLines counts and reports bad lines', async () => {
  const warnings: string[] = [];
  const path = file('mixed.tsv', 'a\tpos\nbroken\n\nc\tneg\n');
  const result = await readClassificationFile(path, {
    skipBadLines: true,
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(
    result.examples.map((e) => e.text),
    ['a', 'c'],
  );
  assert.equal(result.skipped, 2);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /mixed\.tsv:2: expected 2 columns/);
  assert.match(warnings[1], /mixed\.tsv:3: empty line/);
  // Errors come in file order: the bad line 2 is reported, not the invalid UTF-8 further on.
  const twoBad = file(
    'order.tsv',
    Buffer.concat([Buffer.from('a\tpos\nbroken\nok\tpos\n'), Buffer.from([0xff])]),
  );
  await rejectsWith(() => readClassificationFile(twoBad), ['order.tsv:2: expected 2 columns']);
  await rejectsWith(
    () => readClassificationFile(file('allbad.tsv', 'x\ny\n'), { skipBadLines: true }),
    ['allbad.tsv: no examples: all 2 lines were bad'],
    UserError,
  );
});

// ---- sequence labelling ----

test('sequence labelling: tokens and tags must pair up', async () => {
  const ok = await readSequenceFile(
    file('ner.tsv', '张 三 去 北京\tB-PER I-PER O B-LOC\n海\u0002 钓\tO\u0002O\n'),
  );
  assert.deepEqual(ok.examples, [
    { tokens: ['张', '三', '去', '北京'], tags: ['B-PER', 'I-PER', 'O', 'B-LOC'], line: 1 },
    { tokens: ['海', ' 钓'], tags: ['O', 'O'], line: 2 },
  ]);
  await rejectsWith(
    () => readSequenceFile(file('mismatch.tsv', 'a b\tO O\nx y z\tO O O O\n')),
    ['mismatch.tsv:2: tags: 3 tokens but 4 tags'],
  );
  await rejectsWith(
    () => readSequenceFile(file('seqcols.tsv', 'a b\n')),
    ['expected 2 columns (tokens, tags), found 1'],
  );
  const unlabelled = await readSequenceFile(file('seqpred.tsv', 'a b\n'), { labelled: false });
  assert.deepEqual(unlabelled.examples, [{ tokens: ['a', 'b'], line: 1 }]);
});

// ---- text matching ----

test('text matching: pointwise scores, pairwise triples, and telling them apart', async () => {
  const pointPath = file('point.tsv', 'q1\td1\t1\nq1\td2\t0.25\n');
  const point = await readPointwiseFile(pointPath);
  assert.deepEqual(
    point.examples.map((e) => e.score),
    [1, 0.25],
  );
  await rejectsWith(
    () => readPointwiseFile(file('badscore.tsv', 'q\td\tyes\n')),
    ['badscore.tsv:1: label: "yes" is not a number (0/1 or a score)'],
  );
  const pairPath = file('pairwise.tsv', 'q\tgood\tbad\n');
  assert.deepEqual((await readPairwiseFile(pairPath)).examples, [
    { query: 'q', positive: 'good', negative: 'bad', line: 1 },
  ]);
  await rejectsWith(
    () => readPairwiseFile(file('pw-cols.tsv', 'q\tgood\n')),
    ['expected 3 columns (query, positive, negative), found 2'],
  );
  assert.equal(await detectMatchingFormat(pointPath), 'pointwise');
  assert.equal(await detectMatchingFormat(pairPath), 'pairwise');
  assert.equal((await readMatchingFile(pairPath)).format, 'pairwise');
  const unlabelled = await readPointwiseFile(file('pointpred.tsv', 'q\td\n'), { labelled: false });
  assert.deepEqual(unlabelled.examples, [{ textA: 'q', textB: 'd', line: 1 }]);
});

// ---- generation and language model ----

test('generation and language-model text', async () => {
  const gen = await readGenerationFile(file('gen.tsv', '静夜思\t床前明月光\n'));
  assert.deepEqual(gen.examples, [{ source: '静夜思', target: '床前明月光', line: 1 }]);
  await rejectsWith(
    () => readGenerationFile(file('gen-empty.tsv', 'x\t \n')),
    ['gen-empty.tsv:1: target: is empty'],
  );
  const lm = await readLanguageModelText(file('lm.txt', '<s> 春眠不觉晓 <e>\n处处闻啼鸟\n'));
  assert.deepEqual(
    lm.examples.map((e) => e.text),
    ['春眠不觉晓', '处处闻啼鸟'],
  );
  await rejectsWith(
    () => readLanguageModelText(file('lm-empty.txt', 'a\n<s> <e>\n')),
    ['lm-empty.txt:2: text: nothing between'],
  );
  assert.equal(stripFrame('<s>only start'), 'only start');
});

// ---- reading comprehension ----

function squad(qas: unknown[], context = '北京是中国的首都。'): string {
  return JSON.stringify({ data: [{ title: 't', paragraphs: [{ context, qas }] }] }, null, 2);
}

test('reading comprehension: answers are checked against the context', async () => {
  // 𠮷 is outside the BMP: answer_start counts it as one character, a JS index as two.
  const context = '𠮷野家在东京。';
  const path = file(
    'rc.json',
    squad(
      [
        { id: 'q1', question: '在哪里？', answers: [{ text: '东京', answer_start: 4 }] },
        { id: 'q2', question: '有吗？', answers: [], is_impossible: true },
      ],
      context,
    ),
  );
  const { examples } = await readReadingComprehensionJson(path);
  assert.deepEqual(examples[0], {
    id: 'q1',
    question: '在哪里？',
    context,
    answers: [{ text: '东京', start: 5 }],
    isImpossible: false,
    title: 't',
  });
  assert.equal(context.slice(5, 7), '东京');
  assert.equal(examples[1].isImpossible, true);

  const shifted = file(
    'shifted.json',
    squad([{ id: 'q9', question: '首都？', answers: [{ text: '北京', answer_start: 1 }] }]),
  );
  await rejectsWith(
    () => readReadingComprehensionJson(shifted),
    [
      'shifted.json: qa "q9": answers[0].answer_start: the answer "北京" is not in the context at 1',
      'the context has "京是"',
    ],
  );
  const past = file(
    'past.json',
    squad([{ id: 'q3', question: '?', answers: [{ text: '首都', answer_start: 99 }] }]),
  );
  await rejectsWith(
    () => readReadingComprehensionJson(past),
    ['qa "q3": answers[0].answer_start', 'past the end'],
  );
  const noAnswer = file('noanswer.json', squad([{ id: 'q4', question: '?', answers: [] }]));
  await rejectsWith(() => readReadingComprehensionJson(noAnswer), ['qa "q4": answers: no answers']);
  const noQuestion = file('noq.json', squad([{ id: 'q5', answers: [] }]));
  await rejectsWith(
    () => readReadingComprehensionJson(noQuestion),
    ['data[0].paragraphs[0].qas[0].question: missing'],
  );
  const dup = file(
    'dup.json',
    squad([
      { id: 'q6', question: 'a' },
      { id: 'q6', question: 'b' },
    ]),
  );
  await rejectsWith(
    () => readReadingComprehensionJson(dup, { labelled: false }),
    ['qa "q6": id: used twice'],
  );

  const warnings: string[] = [];
  const mixed = file(
    'mixed.json',
    squad([
      { id: 'good', question: '?', answers: [{ text: '北京', answer_start: 0 }] },
      { id: 'bad', question: '?', answers: [{ text: '北京', answer_start: 2 }] },
    ]),
  );
  const skipped = await readReadingComprehensionJson(mixed, {
    skipBadLines: true,
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(
    skipped.examples.map((e) => e.id),
    ['good'],
  );
  assert.equal(skipped.skipped, 1);
  assert.match(warnings[0], /qa "bad"/);
});

test('reading comprehension: JSON errors give line and column', async () => {
  // V8 reports a position for this one ...
  await rejectsWith(
    () => readReadingComprehensionJson(file('comma.json', '{\n  "data": [\n    1,\n  ]\n}')),
    ['comma.json:4: invalid JSON at column 3'],
  );
  // ... but not for an unexpected token, which the scanner then locates.
  await rejectsWith(
    () => readReadingComprehensionJson(file('token.json', '{\n  "data": tru\n}')),
    ['token.json:2: invalid JSON at column 11'],
  );
  await rejectsWith(
    () => readReadingComprehensionJson(file('shape.json', '{"data": {}}')),
    ['shape.json: data: must be a list of articles'],
  );
  const latin1 = Uint8Array.from([...Buffer.from('{"data": [\n"caf'), 0xe9, ...Buffer.from('"]}')]);
  await rejectsWith(
    () => readReadingComprehensionJson(file('latin1.json', latin1)),
    ['latin1.json:2: not valid UTF-8'],
  );
  await rejectsWith(
    () => readReadingComprehensionJson(file('empty.json', '  \n')),
    ['empty.json: file is empty'],
    UserError,
  );
});

test('JSON error scanner finds the first bad character', () => {
  assert.equal(findJsonErrorOffset('{"a": [1, 2, {"b": null}], "c": "\\u00e9"}'), -1);
  assert.equal(findJsonErrorOffset('{"a": tru}'), 6);
  assert.equal(findJsonErrorOffset('[1, 2,]'), 6);
  assert.equal(findJsonErrorOffset('{"a" 1}'), 5);
  assert.equal(findJsonErrorOffset('"ab\\x"'), 4);
  assert.equal(findJsonErrorOffset('[01]'), 2);
  assert.equal(findJsonErrorOffset('{} x'), 3);
  assert.equal(findJsonErrorOffset('[1'), 2);
  assert.deepEqual(positionAt('ab\ncd\nef', 7), { line: 3, column: 2 });
});

// ---- label maps ----

test('label map: deterministic ids, numeric order for integer labels', () => {
  const names = LabelMap.fromLabels(['spam', 'ham', 'spam', 'eggs']);
  assert.deepEqual(names.names, ['eggs', 'ham', 'spam']);
  assert.equal(names.id('spam', { file: 'x.tsv', line: 1 }), 2);
  assert.equal(names.name(1), 'ham');
  assert.deepEqual(LabelMap.fromLabels(['10', '2', '1', '2']).names, ['1', '2', '10']);
  assert.deepEqual(LabelMap.fromLabels(['10', '2', 'x']).names, ['10', '2', 'x']);
  assert.throws(
    () => names.id('bacon', { file: 'dev.tsv', line: 12 }),
    (e: unknown) =>
      e instanceof InputError &&
      e.message.startsWith(
        'dev.tsv:12: label: "bacon" is not in the label map (labels: "eggs", "ham", "spam")',
      ),
  );
});

test('label map: save, load and checks on label_map.json', () => {
  const path = join(dir, 'label_map.json');
  const map = LabelMap.fromLabels(['b', 'a']);
  map.save(path);
  assert.deepEqual(LabelMap.load(path).toJSON(), { a: 0, b: 1 });
  assert.deepEqual(LabelMap.load(file('ids.json', '{"neg": 1, "pos": 0}')).names, ['pos', 'neg']);
  assert.throws(
    () => LabelMap.load(file('gap.json', '{"a": 0, "b": 2}')),
    /gap\.json: "b": id 2 is not one of 0\.\.1/,
  );
  assert.throws(
    () => LabelMap.load(file('same.json', '{"a": 0, "b": 0}')),
    /same\.json: "b": id 0 is already used by "a"/,
  );
  assert.throws(
    () => LabelMap.load(file('list.json', '["a"]')),
    /list\.json: a label map must be a JSON object/,
  );
  assert.throws(
    () => LabelMap.load(file('syntax.json', '{\n"a": 0,\n}')),
    /syntax\.json:3: invalid JSON at column 1/,
  );
  assert.throws(() => LabelMap.load(join(dir, 'none.json')), /none\.json: no such file/);
});
