/**
 * A streamed training run against the in-memory run on the same generated file: the same weights, byte for
 * byte (the same examples in the same batches in the same order), the same metrics log; an interrupted
 * streamed run resumed from its checkpoint ends with those weights too. The console says which way the
 * file was read, the line index lands in the run's output folder, and a file that changes mid-run, or a
 * task that reads its file into memory, stops with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { TRAIN_INDEX_FILE } from '../../src/train/streamed-train-data.js';
import { InputError, UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { sentimentExample, tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-train-streaming-');
const dataDir = path.join(dir, 'data');
const files = (() => {
  mkdirSync(dataDir);
  const written = writeSentimentSplits(dataDir, { train: 150, dev: 30, test: 0 }, 5);
  // A bad line and a header row: the streamed pass must skip and recognise them as the in-memory reader does.
  const lines = readFileSync(written.train, 'utf8').trimEnd().split('\n');
  lines.splice(40, 0, 'a line without its label');
  writeFileSync(written.train, ['text\tlabel', ...lines].join('\n') + '\n');
  return written;
})();

function config(
  name: string,
  streaming: boolean | 'auto',
  net: 'bow' | 'cnn',
  extra: Record<string, unknown> = {},
) {
  return parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, max_len: 16, skip_bad_lines: true, streaming },
      model:
        net === 'bow' ? { net, embedding_dim: 8, hidden_size: 8 } : { net, embedding_dim: 8, num_filters: 4 },
      trainer: {
        epochs: 3,
        batch_size: 16,
        learning_rate: 0.01,
        eval_step: 7,
        save_model_step: 5,
        train_log_step: 2,
        threads: 1,
        output_dir: path.join(dir, name),
        ...extra,
      },
    },
    path.join(dir, 'config.json'),
  );
}

async function run(
  name: string,
  streaming: boolean | 'auto',
  net: 'bow' | 'cnn',
  opts: Parameters<typeof train>[1] = {},
) {
  const lines: string[] = [];
  const summary = await train(config(name, streaming, net), {
    quiet: true,
    log: (l) => lines.push(l),
    ...opts,
  });
  return { summary, log: lines.join('\n'), out: path.join(dir, name) };
}

/** The bytes of the run's final weights and best model, and its metrics log. */
function outcome(out: string, steps: number) {
  return {
    final: readFileSync(path.join(out, 'checkpoints', `step_${steps}`, 'model.safetensors')),
    best: readFileSync(path.join(out, 'best', 'model.safetensors')),
    vocab: readFileSync(path.join(out, 'best', 'vocab.txt'), 'utf8'),
    metrics: readFileSync(path.join(out, 'metrics.jsonl'), 'utf8'),
  };
}

for (const net of ['bow', 'cnn'] as const) {
  test(`a streamed ${net} run trains the weights the in-memory run trains, byte for byte`, async () => {
    const memory = await run(`memory-${net}`, false, net);
    const streamed = await run(`streamed-${net}`, true, net);
    assert.equal(streamed.summary.steps, memory.summary.steps);
    // 150 examples in batches of 16, 3 epochs.
    assert.equal(memory.summary.steps, 3 * Math.ceil(150 / 16));
    assert.deepEqual(
      outcome(streamed.out, streamed.summary.steps),
      outcome(memory.out, memory.summary.steps),
    );
    assert.match(streamed.log, /streamed a batch at a time/);
    assert.doesNotMatch(memory.log, /streamed/);
    assert.ok(existsSync(path.join(streamed.out, TRAIN_INDEX_FILE)));
    // Nothing is written beside the user's data.
    assert.deepEqual(readdirSync(dataDir).sort(), ['dev.tsv', 'test.tsv', 'train.tsv']);
  });
}

test('an interrupted streamed run, resumed, ends with the weights of an uninterrupted one', async () => {
  const whole = await run('whole', true, 'cnn');
  const abort = new AbortController();
  const first = await run('resumed', true, 'cnn', {
    signal: abort.signal,
    onStep: (step) => {
      if (step === 12) abort.abort();
    },
  });
  assert.equal(first.summary.interrupted, true);
  assert.equal(first.summary.steps, 12);
  const second = await run('resumed', true, 'cnn', { resume: true });
  // The resumed run took the index and the vocabulary the first one built: the file had not changed.
  assert.match(second.log, /unchanged since it was indexed/);
  assert.equal(second.summary.steps, whole.summary.steps);
  assert.deepEqual(outcome(second.out, second.summary.steps), outcome(whole.out, whole.summary.steps));
});

test('the index is built again when the file or the settings changed since it was built', async () => {
  const copy = path.join(dir, 'copy.tsv');
  writeFileSync(copy, readFileSync(files.train));
  const runOn = async (extra: Record<string, unknown>) => {
    const c = config('rebuilt', true, 'bow', { max_steps: 2 });
    c.dataset.train = copy;
    Object.assign(c.dataset, extra);
    const lines: string[] = [];
    await train(c, { quiet: true, log: (l) => lines.push(l), resume: true });
    return lines.join('\n');
  };
  const reused = /unchanged since it was indexed/;
  assert.doesNotMatch(await runOn({}), reused);
  assert.match(await runOn({}), reused);
  // Same size, new modification time.
  const later = new Date(Date.now() + 5000);
  utimesSync(copy, later, later);
  assert.doesNotMatch(await runOn({}), reused);
  assert.match(await runOn({}), reused);
  assert.doesNotMatch(await runOn({ vocab: { min_freq: 2, max_size: 100 } }), reused);
});

test('"auto" reads a small file into memory and says so', async () => {
  const auto = await run('auto', 'auto', 'bow', { onStep: () => {} });
  assert.match(auto.log, /read into memory/);
  assert.ok(!existsSync(path.join(auto.out, TRAIN_INDEX_FILE)));
});

test('a training file that changes during a streamed run stops it with one line naming the file', async () => {
  const changing = path.join(dir, 'changing.tsv');
  const rng = new Rng(9);
  const lines = Array.from({ length: 64 }, () => {
    const e = sentimentExample(rng);
    return `${e.text}\t${e.label}`;
  });
  writeFileSync(changing, lines.join('\n') + '\n');
  const c = config('changing', true, 'bow');
  c.dataset.train = changing;
  c.dataset.dev = undefined;
  await assert.rejects(
    train(c, {
      quiet: true,
      log: () => {},
      onStep: (step) => {
        if (step === 2) appendFileSync(changing, '新的\t正面\n');
      },
    }),
    (error: unknown) =>
      error instanceof UserError && error.message.includes(changing) && /changed/.test(error.message),
  );
});

test('a bad line in a streamed file stops the run before its first step, naming file, line and field', async () => {
  const bad = path.join(dir, 'bad.tsv');
  writeFileSync(bad, ['很好\t正面', '很差\t负面', '\t正面', '不错\t正面'].join('\n') + '\n');
  const c = config('bad', true, 'bow');
  c.dataset.train = bad;
  c.dataset.skip_bad_lines = false;
  let steps = 0;
  await assert.rejects(
    train(c, { quiet: true, log: () => {}, onStep: () => steps++ }),
    (e: unknown) => e instanceof InputError && e.message.startsWith(`${bad}:3: text`),
  );
  assert.equal(steps, 0);
});

test('streaming: true for a task that reads its file into memory is one line saying why', async () => {
  const file = path.join(dir, 'lines.txt');
  writeFileSync(file, Array.from({ length: 20 }, (_, i) => `第${i}行文字`).join('\n') + '\n');
  const vocab = path.join(dir, 'wordpiece-vocab.txt');
  writeFileSync(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '第', '行'].join('\n') + '\n');
  // Reading comprehension; generation whose own WordPiece target vocabulary would cut its targets.
  for (const [task, extra] of [
    ['reading_comprehension', {}],
    ['text_generation', { tokenizer: { type: 'wordpiece', vocab }, generation: { shared_vocab: false } }],
  ] as const) {
    const { generation, ...dataset } = extra as { generation?: unknown };
    const c = parseConfig(
      {
        task,
        dataset: { train: file, streaming: true, ...dataset },
        ...(generation ? { generation } : {}),
        model: { net: 'gru', embedding_dim: 8, hidden_size: 8 },
        trainer: { output_dir: path.join(dir, `${task}-run`), threads: 1 },
      },
      path.join(dir, 'config.json'),
    );
    await assert.rejects(
      train(c, { quiet: true, log: () => {} }),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.startsWith(`dataset.streaming: ${file} cannot be streamed: ${task} `) &&
        e.message.includes('reads its training file into memory') &&
        !e.message.includes('\n'),
    );
  }
});
