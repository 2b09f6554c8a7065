import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { combineParts } from '../../../src/distill/data/training-files.js';
import { InputError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/tiny-data.js';

const dir = tempDir('alembic-training-files-');
after(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);

// part.0: gold lines; part.1: teacher-labelled lines with three-class probabilities, some of them ties
// with the threshold itself.
const rng = new Rng(3);
const gold = ['好\t正面', '差\t负面'];
const labelled = Array.from({ length: 200 }, (_, i) => {
  const raw = [rng.next(), rng.next(), rng.next()];
  const sum = raw[0] + raw[1] + raw[2];
  const p = i % 25 === 0 ? [0.8, 0.15, 0.05] : raw.map((x) => Number((x / sum).toFixed(6)));
  return { text: `文本${i}`, label: ['甲', '乙', '丙'][p.indexOf(Math.max(...p))], p };
});
const part0 = path.join(dir, 'part.0');
const part1 = path.join(dir, 'part.1');
writeFileSync(part0, gold.join('\n') + '\n');
writeFileSync(part1, labelled.map((l) => `${l.text}\t${l.label}\t${l.p.join(' ')}`).join('\n') + '\n');

test('combineParts keeps the gold lines and exactly the teacher labels at least min_confidence sure', async () => {
  for (const [minConfidence, soft] of [
    [0.8, false],
    [0.5, true],
    [1, false],
  ] as const) {
    const out = path.join(dir, `sure-${minConfidence}-${soft}.tsv`);
    const counts = await combineParts(part0, part1, out, {
      keepProbabilities: soft,
      textColumns: 1,
      minConfidence,
    });
    // Brute force: a line is kept when its largest probability is ≥ the threshold (0.8 itself included).
    const sure = labelled.filter((l) => Math.max(...l.p) >= minConfidence);
    const expected = sure.map((l) => `${l.text}\t${l.label}` + (soft ? `\t${l.p.join(' ')}` : ''));
    assert.deepEqual(lines(out), [...gold, ...expected], `min_confidence ${minConfidence}`);
    assert.deepEqual(counts, { offered: 200, kept: sure.length });
  }
  // The 0.8-sure lines: some kept, some dropped, so the check above could fail both ways.
  const at08 = labelled.filter((l) => Math.max(...l.p) >= 0.8).length;
  assert.ok(at08 >= 8 && at08 < 200, String(at08));
});

test('combineParts counts only the chosen sources, and without a threshold keeps them all', async () => {
  const out = path.join(dir, 'first-half.tsv');
  const counts = await combineParts(part0, part1, out, {
    keepProbabilities: false,
    textColumns: 1,
    include: (i) => i < 100,
  });
  assert.deepEqual(counts, { offered: 100, kept: 100 });
  assert.deepEqual(lines(out), [...gold, ...labelled.slice(0, 100).map((l) => `${l.text}\t${l.label}`)]);
});

test('combineParts with a threshold names the line of a part.1 without probabilities', async () => {
  const bare = path.join(dir, 'bare.1');
  writeFileSync(bare, '文本\t甲\t0.9 0.1\n文本二\t乙\n');
  await assert.rejects(
    combineParts(part0, bare, path.join(dir, 'bare.tsv'), {
      keepProbabilities: false,
      textColumns: 1,
      minConfidence: 0.5,
    }),
    (e: unknown) =>
      e instanceof InputError &&
      e.message ===
        `${bare}:2: probabilities: is missing: a confidence threshold needs the teacher's probabilities`,
  );
});
