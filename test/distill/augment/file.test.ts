import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { augmentFile, type AugmentFileOptions } from '../../../src/distill/augment/augment-file.js';
import { readWordTagFile } from '../../../src/distill/augment/pos-taggers.js';
import { InputError, UserError } from '../../../src/util/errors.js';
import { UNK_TOKEN } from '../../../src/distill/augment/strategies.js';
import { tempDir } from '../../helpers/tiny-data.js';

const dir = tempDir('alembic-augment-');
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function file(lines: string[]): string {
  const path = join(dir, `f${fileNo++}.tsv`);
  writeFileSync(path, lines.map((l) => l + '\n').join(''));
  return path;
}
const out = () => join(dir, `out${fileNo++}.tsv`);
const outputLines = (path: string) => readFileSync(path, 'utf8').split('\n').slice(0, -1);

// English: every sentence is "det adj noun verb det noun", so a word's position gives its tag.
const TAGS = ['det', 'adj', 'noun', 'verb', 'det', 'noun'];
const BY_TAG: Record<string, string[]> = {
  det: ['the', 'a', 'this'],
  adj: ['big', 'small', 'red', 'old'],
  noun: ['cat', 'dog', 'bird', 'fish', 'man'],
  verb: ['sees', 'eats', 'likes'],
};
const lexiconPath = file(Object.entries(BY_TAG).flatMap(([tag, words]) => words.map((w) => `${w}\t${tag}`)));
const englishLines = Array.from({ length: 60 }, (_, i) =>
  TAGS.map((tag, j) => BY_TAG[tag][(i * (j + 2) + j) % BY_TAG[tag].length]).join(' '),
);
const english = file(englishLines.map((l, i) => `${l}\t${i % 2 ? 'LABEL_POS' : 'LABEL_NEG'}`));

const englishRun = (seed: number, extra: Partial<AugmentFileOptions> = {}) =>
  augmentFile({
    input: english,
    output: out(),
    ratio: 5,
    strategies: { unk: 1, pos: 1, nsample: 1 },
    seed,
    posLexicon: lexiconPath,
    ...extra,
  });

test('same seed, same output; another seed, another output; counts add up', async () => {
  const a = await englishRun(42, { output: join(dir, 'a.tsv') });
  const b = await englishRun(42, { output: join(dir, 'b.tsv') });
  const c = await englishRun(43, { output: join(dir, 'c.tsv') });
  assert.equal(readFileSync(join(dir, 'a.tsv'), 'utf8'), readFileSync(join(dir, 'b.tsv'), 'utf8'));
  assert.notEqual(readFileSync(join(dir, 'a.tsv'), 'utf8'), readFileSync(join(dir, 'c.tsv'), 'utf8'));
  assert.deepEqual(a, b);
  assert.equal(a.read, 60);
  assert.equal(a.segmentation, 'spaces');
  assert.equal(a.written + a.duplicatesDropped + a.unchangedDropped, 60 * 5);
  assert.equal(outputLines(join(dir, 'a.tsv')).length, a.written);
  assert.ok(a.written > 150, `written ${a.written}`);
  assert.ok(c.written > 150);
});

test('output never has the label column and has no duplicate lines', async () => {
  const output = out();
  await englishRun(1, { output });
  const lines = outputLines(output);
  for (const line of lines) {
    assert.equal(line.split('\t').length, 1);
    assert.ok(!/LABEL_/.test(line), line);
  }
  assert.equal(new Set(lines).size, lines.length);
});

test('same-POS replacement in a file keeps every word its tag; UNK and n-sampling as specified', async () => {
  const posOut = out();
  await englishRun(2, { output: posOut, strategies: { pos: 1 }, p: 0.3 });
  const tagOf = await readWordTagFile(lexiconPath);
  for (const line of outputLines(posOut)) {
    assert.deepEqual(
      line.split(' ').map((w) => tagOf.get(w)),
      TAGS,
      line,
    );
  }
  const unkOut = out();
  await englishRun(3, { output: unkOut, strategies: { unk: 1 }, p: 0.3 });
  for (const line of outputLines(unkOut)) {
    const words = line.split(' ');
    assert.ok(words.includes(UNK_TOKEN));
    const matches = englishLines.some((src) =>
      src.split(' ').every((w, i) => words[i] === w || words[i] === UNK_TOKEN),
    );
    assert.ok(matches, `${line} is not an input line with words hidden`);
  }
  const nsOut = out();
  await englishRun(4, { output: nsOut, strategies: { nsample: 1 } });
  for (const line of outputLines(nsOut)) {
    const n = line.split(' ').length;
    assert.ok(n > 0 && n < 6);
    assert.ok(
      englishLines.some((src) => ` ${src} `.includes(` ${line} `)),
      `${line} is not a contiguous span of an input line`,
    );
  }
});

test('pair lines: both texts augmented and written aligned on one line, label dropped', async () => {
  // Line i: text_a has i + 1 words, text_b has i + 21, so lengths show which texts were paired.
  const lines = Array.from({ length: 15 }, (_, i) => {
    const a = Array.from({ length: i + 1 }, (_, k) => `a${i}_${k}`).join(' ');
    const b = Array.from({ length: i + 21 }, (_, k) => `b${i}_${k}`).join(' ');
    return `${a}\t${b}\t${i % 3}`;
  });
  const output = out();
  const result = await augmentFile({
    input: file(lines),
    output,
    ratio: 4,
    strategies: { unk: 1 },
    p: 0.2,
    seed: 5,
    pair: true,
  });
  assert.ok(result.written > 30);
  for (const line of outputLines(output)) {
    const fields = line.split('\t');
    assert.equal(fields.length, 2);
    const [a, b] = fields.map((f) => f.split(' '));
    assert.equal(b.length, a.length + 20, line);
    const i = a.length - 1;
    a.forEach((w, k) => assert.ok(w === `a${i}_${k}` || w === UNK_TOKEN));
    b.forEach((w, k) => assert.ok(w === `b${i}_${k}` || w === UNK_TOKEN));
  }
});

test('duplicates and unchanged samples are dropped and counted', async () => {
  const output = out();
  // Two identical lines of two words: n-sampling can only give "x", "y" (new) or "x y" (unchanged).
  const r = await augmentFile({
    input: file(['x y', 'x y', 'z']),
    output,
    ratio: 6,
    strategies: { nsample: 1 },
    seed: 8,
  });
  assert.deepEqual(outputLines(output).sort(), ['x', 'y']);
  assert.equal(r.written, 2);
  assert.equal(r.read, 3);
  assert.equal(r.written + r.duplicatesDropped + r.unchangedDropped, 18);
  assert.ok(r.unchangedDropped >= 6, 'the one-word line can only reproduce itself');
  assert.ok(r.duplicatesDropped > 0);
});

test('raw Chinese is cut by jieba and joined without spaces; pre-segmented Chinese keeps its spaces', async () => {
  const rawLines = [
    '这部电影非常好看,演员的表演很自然',
    '服务态度很差,房间也不干净',
    '价格便宜,味道不错,下次还会再来',
  ];
  const rawOut = out();
  const raw = await augmentFile({
    input: file(rawLines.map((l) => `${l}\t1`)),
    output: rawOut,
    ratio: 8,
    strategies: { nsample: 1 },
    seed: 1,
  });
  assert.equal(raw.segmentation, 'jieba');
  for (const line of outputLines(rawOut)) {
    assert.ok(!line.includes(' ') && !line.includes('\t'), line);
    assert.ok(
      rawLines.some((src) => src.includes(line)),
      `${line} is not a span of an input`,
    );
  }
  const posOut = out();
  const pos = await augmentFile({
    input: file(rawLines),
    output: posOut,
    ratio: 8,
    strategies: { pos: 1 },
    p: 0.5,
    seed: 1,
  });
  assert.ok(pos.written > 0);

  const segLines = ['这部 电影 非常 好看', '服务 态度 很 差', '价格 便宜 味道 不错'];
  const segOut = out();
  const seg = await augmentFile({
    input: file(segLines),
    output: segOut,
    ratio: 6,
    strategies: { unk: 1, pos: 1 },
    p: 0.5,
    seed: 2,
  });
  assert.equal(seg.segmentation, 'spaces');
  for (const line of outputLines(segOut)) assert.equal(line.split(' ').length, 4, line);
});

test('user errors: bad field count, English pos without a POS source, bad lexicon, bad options', async () => {
  await assert.rejects(
    augmentFile({
      input: file(['a b\t1', 'c\td\t1']),
      output: out(),
      ratio: 2,
      strategies: { unk: 1 },
      seed: 1,
    }),
    (err: unknown) =>
      err instanceof InputError &&
      /f\d+\.tsv:2: expected 2 tab-separated fields \(text, label\), found 3/.test(err.message),
  );
  await assert.rejects(
    augmentFile({ input: file(['a fine film']), output: out(), ratio: 2, strategies: { pos: 1 }, seed: 1 }),
    (err: unknown) => err instanceof UserError && /needs a POS source/.test(err.message),
  );
  const badLexicon = file(['cat\tnoun', 'dog']);
  await assert.rejects(readWordTagFile(badLexicon), /f\d+\.tsv:2: expected "word<TAB>tag", found 1/);
  await assert.rejects(
    augmentFile({ input: english, output: out(), ratio: 0, strategies: { unk: 1 }, seed: 1 }),
    /ratio must be a whole number/,
  );
  await assert.rejects(
    augmentFile({ input: english, output: english, ratio: 1, strategies: { unk: 1 }, seed: 1 }),
    /must not be the input/,
  );
  // Nor through a link to it, nor the POS lexicon; the files read stay as they were.
  const link = join(dir, 'link-to-input.tsv');
  symlinkSync(english, link);
  const before = readFileSync(english, 'utf8');
  await assert.rejects(
    augmentFile({ input: english, output: link, ratio: 1, strategies: { unk: 1 }, seed: 1 }),
    /must not be the input/,
  );
  const lexicon = file(['cat\tnoun']);
  await assert.rejects(
    augmentFile({
      input: english,
      output: lexicon,
      ratio: 1,
      strategies: { pos: 1 },
      seed: 1,
      posLexicon: lexicon,
    }),
    /must not be the POS lexicon/,
  );
  assert.equal(readFileSync(english, 'utf8'), before);
  assert.equal(readFileSync(lexicon, 'utf8'), 'cat\tnoun\n');
  const output = out();
  await assert.rejects(
    augmentFile({ input: file(['a', 'b\tc\td']), output, ratio: 1, strategies: { unk: 1 }, seed: 1 }),
  );
  assert.equal(existsSync(output), false, 'a failed run leaves no partial output');
});

test('a per-word POS function works as the POS source', async () => {
  const output = out();
  const tagOf = (w: string) => (/^[a-e]/.test(w) ? 'early' : 'late');
  const r = await augmentFile({
    input: file(['apple fig banana grape', 'cherry kiwi date lemon']),
    output,
    ratio: 10,
    strategies: { pos: 1 },
    p: 0.5,
    seed: 3,
    posTagger: tagOf,
  });
  assert.ok(r.written > 3);
  for (const line of outputLines(output)) {
    assert.deepEqual(line.split(' ').map(tagOf), ['early', 'late', 'early', 'late'], line);
  }
});
