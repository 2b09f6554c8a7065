import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** The TSV splits rewritten as JSON Lines or CSV (texts quoted, one with a comma and a quote). */
function rewrite(tsv: string, format: 'jsonl' | 'csv'): string {
  const rows = readFileSync(tsv, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  const out = tsv.replace(/\.tsv$/, `.${format}`);
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  writeFileSync(
    out,
    format === 'jsonl'
      ? rows.map(([text, label]) => JSON.stringify({ text, label })).join('\n') + '\n'
      : 'text,label\r\n' + rows.map(([text, label]) => `${quote(text)},${label}`).join('\r\n') + '\r\n',
  );
  return out;
}

test('train on JSON Lines, evaluate on CSV, predict from JSON Lines and CSV', async () => {
  const dir = tempDir();
  const tsv = writeSentimentSplits(dir);
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: rewrite(tsv.train, 'jsonl'), dev: rewrite(tsv.dev, 'csv'), max_len: 32 },
      model: { net: 'bow', embedding_dim: 32, hidden_size: 32 },
      trainer: {
        epochs: 8,
        batch_size: 16,
        learning_rate: 0.005,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
  await train(config, { quiet: true, log: () => {} });
  const best = path.join(dir, 'run', 'best');
  const cli = (...args: string[]) =>
    run(process.execPath, [path.join(ROOT, 'bin', 'alembic.js'), ...args], { cwd: ROOT });

  // The same test set as CSV and as TSV: the same metrics.
  const evaluated = await cli('eval', '--model', best, '--data', rewrite(tsv.test, 'csv'), '--json');
  const fromTsv = await cli('eval', '--model', best, '--data', tsv.test, '--json');
  assert.deepEqual(JSON.parse(evaluated.stdout), JSON.parse(fromTsv.stdout));
  assert.ok(JSON.parse(evaluated.stdout).accuracy > 0.6, evaluated.stdout);

  const input = path.join(dir, 'input.jsonl');
  writeFileSync(
    input,
    JSON.stringify({ text: '这个酒店很棒' }) + '\n' + JSON.stringify({ text: '房间很差' }) + '\n',
  );
  // predict's first line is its header; one line per input follows.
  const predicted = (await cli('predict', '--model', best, '--input', input)).stdout.split('\n').slice(1);
  assert.match(predicted[0], /^这个酒店很棒\t(正面|负面)\t/);
  assert.match(predicted[1], /^房间很差\t(正面|负面)\t/);
  const csvInput = path.join(dir, 'input.csv');
  writeFileSync(csvInput, 'text\n"房间很差, 很""差"""\n');
  // The quoted field arrives whole: comma, doubled quote and all.
  assert.match(
    (await cli('predict', '--model', best, '--input', csvInput)).stdout,
    /^text\tlabel\t.*\n房间很差, 很"差"\t(正面|负面)\t/,
  );

  // A bad record is a one-line error naming file, line and field, exit code 2.
  const bad = path.join(dir, 'bad.csv');
  writeFileSync(bad, 'text,label\n"a\nb",正面\n,负面\n');
  await assert.rejects(
    cli('eval', '--model', best, '--data', bad),
    (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.equal(error.stderr.trim(), `alembic: ${bad}:4: text: is empty`);
      return true;
    },
  );
});
