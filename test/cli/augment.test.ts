import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tiny-data.js';

const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const bin = path.join(root, 'bin', 'alembic.js');
const dir = tempDir('alembic-cli-augment-');
after(() => rmSync(dir, { recursive: true, force: true }));

function alembic(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: root }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

// English pairs, so words are split on spaces and the POS lexicon gives every word a tag.
const lexicon = path.join(dir, 'lexicon.tsv');
writeFileSync(
  lexicon,
  ['the\tdet', 'a\tdet', 'cat\tnoun', 'dog\tnoun', 'bird\tnoun', 'sees\tverb', 'likes\tverb'].join('\n') +
    '\n',
);
const nouns = ['cat', 'dog', 'bird'];
const verbs = ['sees', 'likes'];
const input = path.join(dir, 'train.tsv');
const rows = Array.from({ length: 12 }, (_, i) => {
  const a = `the ${nouns[i % 3]} ${verbs[i % 2]} a ${nouns[(i + 1) % 3]}`;
  const b = `a ${nouns[(i + 2) % 3]} ${verbs[(i + 1) % 2]} the ${nouns[i % 3]}`;
  return `${a}\t${b}\t${i % 2 ? 'yes' : 'no'}`;
});
writeFileSync(input, rows.join('\n') + '\n');

test('alembic augment writes augmented pairs without labels, prints the counts, and is seeded', async () => {
  const out1 = path.join(dir, 'aug1.txt');
  const out2 = path.join(dir, 'aug2.txt');
  const common = ['--input', input, '--ratio', '6', '--strategies', 'unk,pos=2,nsample', '--seed', '7'];
  const [text, json] = await Promise.all([
    alembic(['augment', ...common, '--output', out1, '--pair', '--pos-lexicon', lexicon, '--p', '0.3']),
    alembic([
      'augment',
      ...common,
      '--output',
      out2,
      '--pair',
      '--pos-lexicon',
      lexicon,
      '--p',
      '0.3',
      '--json',
    ]),
  ]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(json.code, 0, json.stderr);
  const lines = readFileSync(out1, 'utf8').split('\n').slice(0, -1);
  assert.ok(lines.length > 12, `only ${lines.length} lines`);
  for (const line of lines) {
    const fields = line.split('\t');
    assert.equal(fields.length, 2, `a pair without its label: ${line}`);
    assert.ok(fields.every((f) => f.trim() !== ''));
  }
  assert.equal(new Set(lines).size, lines.length, 'no duplicates');
  assert.ok(
    lines.every((l) => !rows.some((r) => r.startsWith(l + '\t'))),
    'no unchanged copy of an input line',
  );
  // Same seed, same output.
  assert.equal(readFileSync(out2, 'utf8'), readFileSync(out1, 'utf8'));
  const counts = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.equal(counts.read, 12);
  assert.equal(counts.written, lines.length);
  assert.equal(counts.segmentation, 'spaces');
  assert.equal(
    (counts.written as number) + (counts.duplicatesDropped as number) + (counts.unchangedDropped as number),
    12 * 6,
  );
  assert.match(
    text.stdout,
    new RegExp(
      `^read 12 lines; wrote ${lines.length} augmented lines to .*aug1\\.txt\\ndropped \\d+ duplicates`,
    ),
  );
});

test('alembic augment: a bad strategy is a one-line error with exit code 2', async () => {
  const r = await alembic([
    'augment',
    '--input',
    input,
    '--output',
    path.join(dir, 'x.txt'),
    '--strategies',
    'unk,shuffle',
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'alembic: --strategies: unknown strategy "shuffle" (known: unk, pos, nsample)\n');
});
