/**
 * Every task that streams, through the one table-streaming pipeline, against its in-memory run on the same
 * generated file: pair and multi-label classification, numeric features, soft labels (data distillation's
 * student on a teacher-labelled pool, its vocabulary counted on another file), pointwise and pairwise
 * matching, sequence labelling, causal and masked language models, generation — in TSV, CSV (quoted fields
 * spanning lines) and JSON Lines. The streamed
 * run must train the same weights byte for byte, and a bad record must stop it before its first step with
 * one line naming file, line and field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
// Registers the soft-label variant of classification with the task registry.
import '../../src/distill/data/soft-label-task.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-table-streaming-');

type Row = Record<string, string | number | string[]>;
type Format = 'tsv' | 'csv' | 'jsonl';

/**
 * Rows in a format: TSV columns in order (lists joined by spaces), CSV with a header and quotes, JSON Lines.
 * Returns the file and the line each row starts on.
 */
function write(
  name: string,
  format: Format,
  columns: string[],
  rows: Row[],
  header = format === 'csv',
): { file: string; lineOf: number[] } {
  const p = path.join(dir, `${name}.${format}`);
  const text = (v: Row[string]) => (Array.isArray(v) ? v.join(' ') : String(v));
  const csv = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const lines =
    format === 'jsonl'
      ? rows.map((r) => JSON.stringify(r))
      : rows.map((r) =>
          columns
            .filter((c) => r[c] !== undefined)
            .map((c) => (format === 'csv' ? csv(text(r[c])) : text(r[c])))
            .join(format === 'csv' ? ',' : '\t'),
        );
  const head = header ? [columns.join(format === 'csv' ? ',' : '\t')] : [];
  writeFileSync(p, [...head, ...lines].join('\n') + '\n');
  const lineOf: number[] = [];
  let next = head.length + 1;
  for (const line of lines) {
    lineOf.push(next);
    next += line.split('\n').length;
  }
  return { file: p, lineOf };
}

const WORDS = ['好', '坏', '快', '慢', '新', '旧', '大', '小', '高', '低', '长', '短'];

function sentence(rng: Rng, n = 3 + rng.int(4)): string {
  return Array.from({ length: n }, () => WORDS[rng.int(WORDS.length)]).join('');
}

interface Case {
  name: string;
  task: string;
  format: Format;
  columns: string[];
  row: (rng: Rng, i: number) => Row;
  /** The field a bad record gets wrong, and the bad value. */
  bad: { field: string; value: string | number };
  dataset?: Record<string, unknown>;
  model?: Record<string, unknown>;
  top?: Record<string, unknown>;
  header?: boolean;
}

const CASES: Case[] = [
  {
    name: 'pairs-csv',
    task: 'text_pair_classification',
    format: 'csv',
    columns: ['text_a', 'text_b', 'label'],
    // Every fourth first text holds a quoted line break and comma: a record over two lines.
    row: (rng, i) => {
      const a = sentence(rng);
      const b = sentence(rng);
      return { text_a: i % 4 === 0 ? `${a},\n${a}` : a, text_b: b, label: a[0] === b[0] ? 'same' : 'other' };
    },
    bad: { field: 'text_b', value: ' ' },
  },
  {
    name: 'multi-label-jsonl',
    task: 'multi_label_classification',
    format: 'jsonl',
    columns: ['text', 'label'],
    row: (rng) => {
      const text = sentence(rng);
      const labels = ['好', '快', '大'].filter((w) => text.includes(w));
      return { text, label: labels.length ? labels : ['无'] };
    },
    bad: { field: 'label', value: 7 },
  },
  {
    name: 'numeric-tsv',
    task: 'text_classification',
    format: 'tsv',
    columns: ['text', 'price', 'label'],
    header: true,
    row: (rng) => {
      const text = sentence(rng);
      const price = Math.round(rng.next() * 1000) / 10;
      return { text, price, label: price > 50 ? '贵' : '便宜' };
    },
    bad: { field: 'price', value: 'cheap' },
    dataset: { numeric_features: ['price'] },
  },
  {
    name: 'soft-labels-tsv',
    task: 'text_classification',
    format: 'tsv',
    columns: ['text', 'label', 'probabilities'],
    // Gold lines without probabilities, teacher-labelled lines with them, as data-distill writes them.
    row: (rng, i): Row => {
      const text = sentence(rng);
      const label = text.includes('好') ? '正面' : '负面';
      if (i % 3 === 0) return { text, label };
      const p = Math.round((0.55 + rng.next() * 0.4) * 100) / 100;
      const q = Math.round((1 - p) * 100) / 100;
      return {
        text,
        label,
        probabilities: label === '正面' ? [String(q), String(p)] : [String(p), String(q)],
      };
    },
    bad: { field: 'probabilities', value: '0.5 x' },
    top: { soft_labels: { temperature: 2, alpha: 0.7 } },
  },
  {
    name: 'matching-pointwise-jsonl',
    task: 'text_matching',
    format: 'jsonl',
    columns: ['text_a', 'text_b', 'label'],
    row: (rng) => {
      const a = sentence(rng);
      const b = rng.next() < 0.5 ? a.split('').reverse().join('') : sentence(rng);
      return { text_a: a, text_b: b, label: b === a.split('').reverse().join('') ? 1 : 0 };
    },
    bad: { field: 'label', value: 'yes' },
  },
  {
    name: 'matching-scores-tsv',
    task: 'text_matching',
    format: 'tsv',
    columns: ['text_a', 'text_b', 'label'],
    row: (rng) => ({ text_a: sentence(rng), text_b: sentence(rng), label: rng.int(5) }),
    bad: { field: 'label', value: 'many' },
  },
  {
    name: 'matching-pairwise-csv',
    task: 'text_matching',
    format: 'csv',
    columns: ['query', 'positive', 'negative'],
    row: (rng) => {
      const q = sentence(rng);
      return { query: q, positive: `${q}${sentence(rng, 1)}`, negative: sentence(rng) };
    },
    bad: { field: 'negative', value: '' },
  },
  {
    name: 'tagging-csv',
    task: 'sequence_labeling',
    format: 'csv',
    columns: ['tokens', 'tags'],
    row: (rng) => {
      const tokens = sentence(rng).split('');
      return { tokens, tags: tokens.map((t) => (t === '好' || t === '快' ? 'B-X' : 'O')) };
    },
    bad: { field: 'tags', value: 'O' },
  },
  {
    name: 'tagging-tsv',
    task: 'sequence_labeling',
    format: 'tsv',
    columns: ['tokens', 'tags'],
    row: (rng) => {
      const tokens = sentence(rng).split('');
      return { tokens, tags: tokens.map((t) => (WORDS.indexOf(t) < 6 ? 'A' : 'B')) };
    },
    bad: { field: 'tags', value: 'A' },
  },
  {
    name: 'language-model-tsv',
    task: 'language_model',
    format: 'tsv',
    columns: ['text'],
    // Some lines framed as corpora ship them: the frame is removed in both runs.
    row: (rng, i) => ({ text: i % 5 === 0 ? `<s> ${sentence(rng)} <e>` : sentence(rng) }),
    bad: { field: 'text', value: '<s> <e>' },
    model: { net: 'gru' },
  },
  {
    name: 'masked-lm-jsonl',
    task: 'language_model',
    format: 'jsonl',
    columns: ['text'],
    row: (rng) => ({ text: sentence(rng, 6) }),
    bad: { field: 'text', value: 5 },
    model: { net: 'transformer', hidden_size: 16, num_layers: 1, num_heads: 2, ffn_size: 16 },
    top: { language_model: { objective: 'masked' } },
  },
  {
    name: 'generation-csv',
    task: 'text_generation',
    format: 'csv',
    columns: ['source', 'target'],
    row: (rng) => {
      const source = sentence(rng);
      return { source, target: source.split('').reverse().join('') };
    },
    bad: { field: 'target', value: '' },
    model: { net: 'gru' },
    top: { generation: { max_length: 8 } },
  },
];

function config(
  c: Case,
  trainFile: string,
  name: string,
  streaming: boolean,
  extra: Record<string, unknown> = {},
  trainer: Record<string, unknown> = {},
) {
  return parseConfig(
    {
      task: c.task,
      dataset: {
        train: trainFile,
        max_len: 12,
        streaming,
        tokenizer: { type: 'char' },
        ...c.dataset,
        ...extra,
      },
      model: { net: 'bow', embedding_dim: 8, hidden_size: 8, ...c.model },
      trainer: {
        epochs: 2,
        batch_size: 8,
        learning_rate: 0.01,
        save_model_step: 1000,
        train_log_step: 3,
        threads: 1,
        output_dir: path.join(dir, name),
        ...trainer,
      },
      ...c.top,
    },
    path.join(dir, 'config.json'),
  );
}

async function run(c: Case, trainFile: string, name: string, streaming: boolean, extra = {}) {
  const lines: string[] = [];
  let steps = 0;
  const summary = await train(config(c, trainFile, name, streaming, extra), {
    quiet: true,
    log: (l) => lines.push(l),
    onStep: () => steps++,
  });
  const best = path.join(dir, name, 'best');
  return {
    summary,
    steps,
    log: lines.join('\n'),
    weights: readFileSync(path.join(best, 'model.safetensors')),
    vocab: readFileSync(path.join(best, 'vocab.txt'), 'utf8'),
    metrics: readFileSync(path.join(dir, name, 'metrics.jsonl'), 'utf8'),
  };
}

for (const c of CASES) {
  test(`${c.name}: a streamed run trains the in-memory run's weights, byte for byte`, async () => {
    const rng = new Rng(c.name.length * 31 + 7);
    const rows = Array.from({ length: 45 }, (_, i) => c.row(rng, i));
    const { file } = write(c.name, c.format, c.columns, rows, c.header);
    const memory = await run(c, file, `${c.name}-memory`, false);
    const streamed = await run(c, file, `${c.name}-streamed`, true);
    assert.match(streamed.log, /streamed a batch at a time/);
    assert.equal(memory.summary.steps, 2 * Math.ceil(45 / 8));
    assert.equal(streamed.summary.steps, memory.summary.steps);
    assert.equal(streamed.vocab, memory.vocab);
    assert.ok(streamed.weights.equals(memory.weights), 'the final weights differ');
    // The metrics log has times in it; the losses must agree.
    const losses = (m: string) =>
      m
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { loss?: number }).loss);
    assert.deepEqual(losses(streamed.metrics), losses(memory.metrics));
  });

  test(`${c.name}: a bad record stops the streamed run before step 1 with file, line and field`, async () => {
    const rng = new Rng(3);
    const rows = Array.from({ length: 12 }, (_, i) => c.row(rng, i));
    rows[5] = { ...rows[5], [c.bad.field]: c.bad.value };
    const { file, lineOf } = write(`${c.name}-bad`, c.format, c.columns, rows, c.header);
    let steps = 0;
    await assert.rejects(
      train(config(c, file, `${c.name}-bad`, true), { quiet: true, log: () => {}, onStep: () => steps++ }),
      (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        const where = new RegExp(`^${escape(file)}:${lineOf[5]}: ${escape(c.bad.field)}\\b`);
        assert.match(e.message, where);
        assert.ok(!e.message.includes('\n'));
        return true;
      },
    );
    assert.equal(steps, 0);
  });
}

// The vocabulary counted on another file: an augmented data-distillation student (soft labels), and a
// language model, whose output layer starts from the training texts' token counts under that vocabulary.
for (const [name, vocabRow] of [
  ['soft-labels-tsv', (rng: Rng): Row => ({ text: sentence(rng, 2), label: '正面' })],
  ['language-model-tsv', (rng: Rng): Row => ({ text: sentence(rng, 2) })],
] as const) {
  test(`${name}: streamed with the vocabulary counted on another file, it equals memory`, async () => {
    const c = CASES.find((x) => x.name === name)!;
    const rng = new Rng(77);
    const rows = Array.from({ length: 40 }, (_, i) => c.row(rng, i));
    const { file } = write(`${name}-vocab`, 'tsv', c.columns, rows);
    const from = Array.from({ length: 30 }, () => vocabRow(rng));
    const { file: vocabFrom } = write(`${name}-vocab-from`, 'tsv', Object.keys(from[0]), from);
    const memory = await run(c, file, `${name}-vocab-memory`, false, { vocab: { from: vocabFrom } });
    const streamed = await run(c, file, `${name}-vocab-streamed`, true, { vocab: { from: vocabFrom } });
    assert.match(streamed.log, /streamed a batch at a time/);
    assert.equal(streamed.vocab, memory.vocab);
    assert.ok(streamed.weights.equals(memory.weights), 'the final weights differ');
  });
}

test('an interrupted streamed tagger and language model, resumed, end with the in-memory weights', async () => {
  for (const name of ['tagging-tsv', 'language-model-tsv']) {
    const c = CASES.find((x) => x.name === name)!;
    const rng = new Rng(5);
    const { file } = write(
      `${name}-resume`,
      c.format,
      c.columns,
      Array.from({ length: 45 }, (_, i) => c.row(rng, i)),
    );
    const memory = await run(c, file, `${name}-resume-memory`, false);
    const out = `${name}-resume-streamed`;
    const abort = new AbortController();
    const first = await train(config(c, file, out, true, {}, { save_model_step: 4 }), {
      quiet: true,
      log: () => {},
      signal: abort.signal,
      onStep: (step) => {
        if (step === 6) abort.abort();
      },
    });
    assert.equal(first.interrupted, true);
    const lines: string[] = [];
    // The resumed run takes the index and the fit (the language model's output-layer counts too) as kept.
    await train(config(c, file, out, true, {}, { save_model_step: 4 }), {
      quiet: true,
      log: (l) => lines.push(l),
      resume: true,
    });
    assert.match(lines.join('\n'), /unchanged since it was indexed/);
    const weights = readFileSync(path.join(dir, out, 'best', 'model.safetensors'));
    assert.ok(weights.equals(memory.weights), `${name}: the resumed weights differ`);
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
