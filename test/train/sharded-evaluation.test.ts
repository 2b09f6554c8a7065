// Evaluation shared out over two ranks on loopback: the slices cover every example once; the gathered
// outputs are the whole set's, in order, on both ranks (an odd count, rows of different lengths, some
// empty); and the dev and test metrics of a two-rank training run (batch 4 each) are those of one process
// with batch 8, for single, pair and multi-label classification and for sequence labelling, on dev and
// test sets of odd sizes (a dropped or doubled slice would change them).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runRanks } from '../../src/cli/rank-launcher.js';
import { parseConfig } from '../../src/config/run-config.js';
import { rankSlice } from '../../src/train/sharded-evaluation.js';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { rowOf } from '../helpers/sharded-eval-rows.js';
import { sentimentExample, tempDir } from '../helpers/tiny-data.js';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin/alembic.js');
const worker = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'helpers',
  'sharded-eval-worker.ts',
);

test('rankSlice: the slices of any count over any number of ranks are consecutive and even', () => {
  for (let count = 0; count <= 13; count++) {
    for (let world = 1; world <= 5; world++) {
      const ranges = Array.from({ length: world }, (_, r) => rankSlice(count, r, world));
      assert.equal(ranges[0]!.start, 0);
      assert.equal(ranges[world - 1]!.end, count);
      ranges.forEach((r, i) => {
        if (i > 0) assert.equal(r.start, ranges[i - 1]!.end, `${count} over ${world}: rank ${i}`);
        const size = r.end - r.start;
        assert.ok(size >= Math.floor(count / world) && size <= Math.ceil(count / world));
      });
    }
  }
});

test('two ranks each run the model on their own slice and both score the whole set, in order', async () => {
  const count = 9;
  const lines: string[] = [];
  const errors: string[] = [];
  await runRanks(
    { nproc: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', timeoutSeconds: 30 },
    {
      command: [process.execPath, '--import', 'tsx', worker, String(count)],
      stdout: (l) => lines.push(l),
      stderr: (l) => errors.push(l),
    },
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${errors.join('\n')}`);
  });
  const ranks = lines
    .map(
      (l) => JSON.parse(l.replace(/^\[rank \d+\] /, '')) as { rank: number; seen: number[]; scored: unknown },
    )
    .sort((a, b) => a.rank - b.rank);
  assert.equal(ranks.length, 2);
  // Every example went through the model exactly once, over both ranks.
  assert.deepEqual(
    ranks.flatMap((r) => r.seen).sort((a, b) => a - b),
    Array.from({ length: count }, (_, i) => i),
  );
  assert.ok(ranks.every((r) => r.seen.length > 0));
  const all = Array.from({ length: count }, (_, i) => i);
  const expected = { rows: all.map(rowOf), sums: [count, all.reduce((s, i) => s + i, 0)] };
  for (const r of ranks) assert.deepEqual(r.scored, expected, `rank ${r.rank}`);
});

/**
 * Lines of `text<TAB>label` (single), `a<TAB>b<TAB>label` (pair), `text<TAB>labels` (multi), `tokens<TAB>tags`.
 * Sentences have 3–7 tokens: the tagger's loss is a mean per token, so ranks weighing their losses by
 * sentences instead of tokens would not train one process's weights.
 */
function writeData(kind: string, file: string, n: number, seed: number): void {
  const rng = new Rng(seed);
  const words = ['猫', '狗', '鱼', '鸟'];
  const lines = Array.from({ length: n }, () => {
    if (kind === 'text_classification') {
      const e = sentimentExample(rng);
      return `${e.text}\t${e.label}`;
    }
    if (kind === 'text_pair_classification') {
      const a = words[rng.int(4)]!;
      const b = rng.next() < 0.5 ? a : words[rng.int(4)]!;
      return `我 喜欢 ${a}\t${b} 很 可爱\t${a === b ? 1 : 0}`;
    }
    if (kind === 'multi_label_classification') {
      const present = words.filter(() => rng.next() < 0.4);
      if (present.length === 0) present.push(words[0]!);
      return `${present.join('和')}在家\t${present.join(' ')}`;
    }
    const tokens: string[] = [];
    const tags: string[] = [];
    for (let k = 0, len = 3 + rng.int(5); k < len; k++) {
      const animal = rng.next() < 0.3;
      tokens.push(animal ? words[rng.int(4)]! : '我们他在的了'[rng.int(6)]!);
      tags.push(animal ? 'B-ANIMAL' : 'O');
    }
    return `${tokens.join(' ')}\t${tags.join(' ')}`;
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

function writeConfig(dir: string, task: string, name: string, batchSize: number): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      task,
      dataset: {
        train: path.join(dir, 'train.tsv'),
        dev: path.join(dir, 'dev.tsv'),
        test: path.join(dir, 'test.tsv'),
        max_len: 16,
        tokenizer: { type: task === 'sequence_labeling' ? 'whitespace' : 'char' },
      },
      // No dropout of either kind: random draws differ between one process and two.
      model: { net: 'cnn', embedding_dim: 8, num_filters: 4, dropout: 0, word_dropout: 0 },
      trainer: {
        epochs: 2,
        batch_size: batchSize,
        learning_rate: 0.05,
        eval_step: 2,
        save_model_step: 1000,
        train_log_step: 1000,
        threads: 1,
        output_dir: path.join(dir, name),
      },
    }),
  );
  return file;
}

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The eval and test lines of a run's metrics.jsonl. */
function scores(out: string): Record<string, number | string>[] {
  return readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>)
    .filter((e) => e.type === 'eval' || e.type === 'test');
}

for (const task of [
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
  'sequence_labeling',
]) {
  test(`${task}: dev and test metrics of two ranks × batch 4 are one process's with batch 8`, async () => {
    const dir = tempDir('alembic-sharded-eval-');
    // 22 training examples (3 steps an epoch at batch 8), 9 dev and 7 test: odd, so the slices differ.
    writeData(task, path.join(dir, 'train.tsv'), 22, 1);
    writeData(task, path.join(dir, 'dev.tsv'), 9, 2);
    writeData(task, path.join(dir, 'test.tsv'), 7, 3);
    const single = writeConfig(dir, task, 'single', 8);
    await train(parseConfig(JSON.parse(readFileSync(single, 'utf8')), single), {
      quiet: true,
      log: () => {},
    });
    const r = await runCli(['train', '-c', writeConfig(dir, task, 'pair', 4), '--nproc', '2', '--quiet']);
    assert.equal(r.code, 0, r.stderr);

    const a = scores(path.join(dir, 'single'));
    const b = scores(path.join(dir, 'pair'));
    assert.deepEqual(
      b.map((e) => `${e.type} ${e.step}`),
      a.map((e) => `${e.type} ${e.step}`),
    );
    assert.ok(a.some((e) => e.type === 'test'));
    a.forEach((line, i) => {
      const other = b[i]!;
      assert.deepEqual(Object.keys(other).sort(), Object.keys(line).sort());
      for (const [k, v] of Object.entries(line)) {
        if (typeof v === 'string') assert.equal(other[k], v);
        else
          assert.ok(
            Math.abs(v - Number(other[k])) < 1e-4,
            `${line.type} step ${line.step} ${k}: ${v} vs ${other[k]}`,
          );
      }
    });
  });
}
