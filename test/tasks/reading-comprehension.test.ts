import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ReadingComprehensionExample } from '../../src/data/readers/types.js';
import { parseConfig, type TrainConfig } from '../../src/config/run-config.js';
import { loadModelDir } from '../../src/train/model-dir.js';
import { train } from '../../src/train/trainer.js';
import {
  decodeAnswer,
  ReadingComprehensionTask,
  type WindowLogits,
} from '../../src/tasks/reading-comprehension.js';
import { bestSpan, charSpanToTokens, contextWindows } from '../../src/tasks/span-windows.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const FILLERS = [
  '今 天 天 气 很 好 。',
  '我 们 去 公 园 散 步 。',
  '这 本 书 很 有 意 思 。',
  '他 每 天 早 上 跑 步 。',
  '商 店 里 人 很 多 。',
  '火 车 站 离 这 里 不 远 。',
];
const COUNTRIES = [
  ['法国', '巴黎'],
  ['日本', '东京'],
  ['英国', '伦敦'],
  ['德国', '柏林'],
  ['中国', '北京'],
  ['俄国', '莫斯科'],
  ['美国', '华盛顿'],
  ['意国', '罗马'],
  ['韩国', '首尔'],
  ['埃及', '开罗'],
  ['泰国', '曼谷'],
  ['印度', '新德里'],
];

function config(
  dir: string,
  extra: { dataset?: object; model?: object; trainer?: object } = {},
): TrainConfig {
  return parseConfig(
    {
      task: 'reading_comprehension',
      dataset: { train: 'train.json', max_len: 28, max_question_len: 12, ...extra.dataset },
      model: { net: 'transformer', max_answer_len: 4, ...extra.model },
      trainer: { output_dir: 'run', ...extra.trainer },
    },
    path.join(dir, 'config.json'),
  );
}

function example(context: string, question: string, answer?: string): ReadingComprehensionExample {
  return {
    id: 'q',
    question,
    context,
    answers: answer === undefined ? [] : [{ text: answer, start: context.indexOf(answer) }],
    isImpossible: answer === undefined,
  };
}

/** A task fitted on the example's own text, as training would. */
function fitted(c: TrainConfig, ...examples: ReadingComprehensionExample[]): ReadingComprehensionTask {
  const task = new ReadingComprehensionTask(c);
  task.fit(examples);
  return task;
}

// 日0 本1 的2 首3 都4 是5 东6 京7 。8 美9 国10 的11 首12 都13 是14 华15 盛16 顿17 。18
const CONTEXT = '日本 的 首 都 是 东京 。 美国 的 首 都 是 华盛顿 。';
const QUESTION = '美国 的 首 都 是 哪 里 ？'; // 9 tokens: the prefix [CLS] q [SEP] is 11 positions

test('contextWindows: at most doc_stride apart, overlapping by at least the answer length', () => {
  assert.deepEqual(contextWindows(10, 4, 3, 1), [
    { start: 0, end: 4 },
    { start: 3, end: 7 },
    { start: 6, end: 10 },
  ]);
  // A stride longer than the window would leave no overlap: the overlap rule moves on by 4 − 2 = 2.
  assert.deepEqual(contextWindows(8, 4, 128, 2), [
    { start: 0, end: 4 },
    { start: 2, end: 6 },
    { start: 4, end: 8 },
  ]);
  // The overlap is at most half a window; short contexts and empty ones are one window.
  assert.deepEqual(contextWindows(9, 4, 128, 30), [
    { start: 0, end: 4 },
    { start: 2, end: 6 },
    { start: 4, end: 8 },
    { start: 6, end: 9 },
  ]);
  assert.deepEqual(contextWindows(3, 4, 2, 1), [{ start: 0, end: 3 }]);
  assert.deepEqual(contextWindows(0, 4, 2, 1), [{ start: 0, end: 0 }]);
});

test('charSpanToTokens and bestSpan', () => {
  const offsets: [number, number][] = [
    [0, 3],
    [4, 11],
    [12, 14],
    [15, 21],
  ]; // "The capital of France"
  assert.deepEqual(charSpanToTokens(offsets, 4, 14), [1, 2]);
  assert.deepEqual(charSpanToTokens(offsets, 6, 8), [1, 1]); // inside a word: widened to the word
  assert.equal(charSpanToTokens(offsets, 3, 4), undefined); // only the space

  const start = [9, 0, 1, 5, 0, 0];
  const end = [9, 0, 0, 0, 2, 4];
  assert.deepEqual(bestSpan(start, end, 1, 6, 3), { start: 3, end: 5, score: 9 });
  assert.deepEqual(bestSpan(start, end, 1, 6, 2), { start: 3, end: 4, score: 7 });
  assert.deepEqual(bestSpan(start, end, 1, 3, 30), { start: 2, end: 2, score: 1 });
  assert.equal(bestSpan(start, end, 4, 4, 3), undefined);
});

test('an answer across a window boundary is labelled in the window that holds it, and maps back to its text', () => {
  // room = 28 − 3 − 9 = 16 tokens: window 0 holds tokens 0–15 and cuts 华盛顿 (15–17); the next
  // starts 16 − min(4, 16 / 2) = 12 tokens on.
  const c = config(tempDir('alembic-mrc-'));
  const e = example(CONTEXT, QUESTION, '华盛顿');
  const task = fitted(c, e);
  const f = task.encode(e);
  assert.deepEqual(
    f.windows.map((w) => w.tokens),
    [
      { start: 0, end: 16 },
      { start: 12, end: 19 },
    ],
  );
  assert.deepEqual(
    f.windows.map((w) => [w.startLabel, w.endLabel]),
    [
      [0, 0],
      [11 + 15 - 12, 11 + 17 - 12],
    ],
  );
  const w1 = f.windows[1];
  assert.equal(w1.ids.length, 11 + 7 + 1);
  assert.equal(w1.typeIds.filter((t) => t === 0).length, 11);
  const vocab = task.codec.vocab;
  assert.equal(
    w1.ids
      .slice(w1.startLabel, w1.endLabel + 1)
      .map((i) => vocab.token(i))
      .join(''),
    '华盛顿',
  );
  assert.equal(CONTEXT.slice(f.offsets[15][0], f.offsets[17][1]), '华盛顿');

  // doc_stride shorter than the overlap rule allows: windows 5 tokens apart.
  const strided = fitted(config(tempDir('alembic-mrc-'), { dataset: { doc_stride: 5 } }), e).encode(e);
  assert.deepEqual(
    strided.windows.map((w) => [w.tokens.start, w.startLabel, w.endLabel]),
    [
      [0, 0, 0],
      [5, 11 + 15 - 5, 11 + 17 - 5],
    ],
  );
});

/** Scores that are 0 everywhere except the given positions. */
function logits(length: number, start: Record<number, number>, end: Record<number, number>): WindowLogits {
  const s = new Array<number>(length).fill(0);
  const e = new Array<number>(length).fill(0);
  for (const [k, v] of Object.entries(start)) s[Number(k)] = v;
  for (const [k, v] of Object.entries(end)) e[Number(k)] = v;
  return { start: s, end: e };
}

test('decodeAnswer: the best span over windows, within max_answer_len, "no answer" only when allowed', () => {
  const c = config(tempDir('alembic-mrc-'));
  const e = example(CONTEXT, QUESTION, '华盛顿');
  const f = fitted(c, e).encode(e);
  const [n0, n1] = f.windows.map((w) => w.ids.length);
  // Window 1 peaks on 华盛顿 (positions 14–16); window 0 on 东京 (positions 17–18) less strongly.
  const scores = (null0: number, null1: number) => [
    logits(n0, { 0: null0 / 2, 17: 3 }, { 0: null0 / 2, 18: 3 }),
    logits(n1, { 0: null1 / 2, 14: 5 }, { 0: null1 / 2, 16: 5 }),
  ];
  const opts = { maxAnswerLen: 4, allowNoAnswer: true };
  assert.deepEqual(decodeAnswer(f, scores(2, 2), opts), {
    answer: '华盛顿',
    start: CONTEXT.indexOf('华盛顿'),
    score: 10,
  });
  // The lowest [CLS] score of the windows is the "no answer" score: 1 < 10, still an answer.
  assert.equal(decodeAnswer(f, scores(20, 1), opts).answer, '华盛顿');
  assert.deepEqual(decodeAnswer(f, scores(20, 12), opts), { answer: '', start: -1, score: 12 });
  assert.equal(decodeAnswer(f, scores(20, 12), { ...opts, allowNoAnswer: false }).answer, '华盛顿');
  // 华盛顿 is three tokens: with at most two, 东京 (6) beats the best two-token part of it (5).
  assert.equal(decodeAnswer(f, scores(2, 2), { ...opts, maxAnswerLen: 2 }).answer, '东京');
  // Question positions are never part of an answer, however high their scores: with every context
  // position tied at 0, the first context token (日) is the answer, not the question's 美 at position 1.
  const tied = decodeAnswer(f, [logits(n0, { 1: 50 }, { 1: 50 }), logits(n1, {}, {})], {
    ...opts,
    allowNoAnswer: false,
  });
  assert.deepEqual(tied, { answer: '日', start: 0, score: 0 });
});

test('offsets keep the original text: a lowercased English token maps back to its cased answer', () => {
  const context = 'The capital of France is Paris.';
  const e = { ...example(context, 'What is the capital of France?', 'Paris'), id: 'en' };
  const c = config(tempDir('alembic-mrc-'), { dataset: { max_len: 64 } });
  const task = fitted(c, e);
  const f = task.encode(e);
  assert.equal(f.windows.length, 1);
  const w = f.windows[0];
  assert.equal(task.codec.vocab.token(w.ids[w.startLabel]), 'paris');
  const out = decodeAnswer(f, [logits(w.ids.length, { [w.startLabel]: 3 }, { [w.endLabel]: 3 })], {
    maxAnswerLen: 30,
    allowNoAnswer: false,
  });
  assert.deepEqual(out, { answer: 'Paris', start: 25, score: 6 });
});

test('unanswerable questions: every window points at [CLS], and the task learns that "no answer" exists', () => {
  const c = config(tempDir('alembic-mrc-'));
  const answerable = example(CONTEXT, QUESTION, '华盛顿');
  const impossible = { ...example(CONTEXT, '法国 的 首 都 是 哪 里 ？'), id: 'q2' };
  const task = fitted(c, answerable, impossible);
  assert.equal(task.allowNoAnswer, true);
  assert.ok(task.encode(impossible).windows.every((w) => w.startLabel === 0 && w.endLabel === 0));
  assert.equal(fitted(c, answerable).allowNoAnswer, false);
  assert.throws(
    () =>
      new ReadingComprehensionTask(
        config(tempDir('alembic-mrc-'), { dataset: { max_len: 15, max_question_len: 12 } }),
      ),
    UserError,
  );
});

/**
 * Generated SQuAD-style data: a context of filler sentences and, for an answerable question, one sentence
 * "X 的 首 都 是 Y 。" at a random place; the question is "X 的 首 都 是 哪 里 ？" (answer Y), unanswerable when
 * the context has no such sentence. The contexts are longer than one window.
 */
function writeCapitals(
  file: string,
  n: number,
  seed: number,
  unanswerable: number,
): ReadingComprehensionExample[] {
  const rng = new Rng(seed);
  const paragraphs = [];
  const gold: ReadingComprehensionExample[] = [];
  for (let i = 0; i < n; i++) {
    const [country, city] = COUNTRIES[rng.int(COUNTRIES.length)];
    const impossible = rng.next() < unanswerable;
    const sentences = rng.shuffle([...FILLERS]).slice(0, impossible ? 4 : 3);
    const capital = `${country} 的 首 都 是 ${city} 。`;
    if (!impossible) sentences.splice(rng.int(4), 0, capital);
    const context = sentences.join(' ');
    const id = `q${i}`;
    const question = `${country} 的 首 都 是 哪 里 ？`;
    const answers = impossible
      ? []
      : [{ text: city, start: context.indexOf(capital) + capital.indexOf(city) }];
    paragraphs.push({
      context,
      qas: [
        {
          id,
          question,
          answers: answers.map((a) => ({ text: a.text, answer_start: a.start })),
          ...(impossible ? { is_impossible: true } : {}),
        },
      ],
    });
    gold.push({ id, question, context, answers, isImpossible: impossible });
  }
  writeFileSync(file, JSON.stringify({ data: [{ title: 'capitals', paragraphs }] }));
  return gold;
}

test('end to end: a Transformer learns span extraction over windows and abstains on unanswerable questions', async () => {
  const dir = tempDir('alembic-mrc-');
  writeCapitals(path.join(dir, 'train.json'), 300, 1, 0.3);
  const dev = writeCapitals(path.join(dir, 'dev.json'), 60, 2, 0.3);
  const c = config(dir, {
    // max_len 32 leaves 20 context tokens (9-token questions) for contexts of 29–37: two or three windows.
    dataset: { dev: 'dev.json', max_len: 32 },
    model: {
      embedding_dim: 32,
      hidden_size: 32,
      num_layers: 2,
      num_heads: 2,
      ffn_size: 64,
      dropout: 0,
      max_answer_len: 30,
    },
    trainer: { epochs: 6, batch_size: 16, learning_rate: 0.004, eval_step: 1000, threads: 1 },
  });
  const summary = await train(c, { quiet: true, log: () => {} });
  assert.equal(summary.best!.metric, 'f1');
  assert.ok(summary.dev!.f1 >= 0.9, `dev F1 ${summary.dev!.f1}`);
  assert.ok(summary.dev!.exact_match >= 0.9, `dev EM ${summary.dev!.exact_match}`);
  assert.ok(summary.dev!.no_answer_accuracy >= 0.9, `no-answer accuracy ${summary.dev!.no_answer_accuracy}`);
  assert.ok(summary.dev!.has_answer_f1 >= 0.85, `has-answer F1 ${summary.dev!.has_answer_f1}`);

  const m = loadModelDir(path.join(c.trainer.output_dir, 'best'));
  assert.equal((m.task as ReadingComprehensionTask).allowNoAnswer, true);
  m.model.dispose();

  // `alembic predict` writes SQuAD's predictions file: {id: answer}, '' for no answer.
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'bin/alembic.js'),
      'predict',
      '--model',
      path.join(c.trainer.output_dir, 'best'),
      '--input',
      path.join(dir, 'dev.json'),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const predictions = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(
    Object.keys(predictions),
    dev.map((e) => e.id),
  );
  const right = dev.filter((e) => predictions[e.id] === (e.answers[0]?.text ?? '')).length;
  assert.ok(right / dev.length >= 0.9, `${right}/${dev.length} predictions right`);
});
