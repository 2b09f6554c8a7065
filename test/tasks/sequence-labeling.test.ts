import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Vocab } from '../../src/data/vocab.js';
import { parseConfig, type TrainConfig } from '../../src/config/run-config.js';
import { loadModelDir } from '../../src/train/model-dir.js';
import { readMetricsLog, train } from '../../src/train/trainer.js';
import { IGNORE_INDEX, pieceTargets, TokenAligner } from '../../src/tasks/token-alignment.js';
import { isChunkTagSet, schemeConstraints } from '../../src/tasks/tag-scheme.js';
import { joinTokens, SequenceLabelingTask } from '../../src/tasks/sequence-labeling.js';
import { InputError, UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// A tiny NER task: fixed city and person names dropped into random filler characters.
const CITIES = ['北京', '上海', '厦门', '广州', '深圳', '杭州', '成都', '南京'];
const PEOPLE = ['王小明', '李华', '张伟'];
const FILLER = [...'海钓比赛地点在我们去了的是很好天气今明年月日来到看见朋友工作学习'];

interface Sentence {
  tokens: string[];
  tags: string[];
}

function nerSentence(rng: Rng): Sentence {
  const tokens: string[] = [];
  const tags: string[] = [];
  const filler = (n: number) => {
    for (let i = 0; i < n; i++) {
      tokens.push(FILLER[rng.int(FILLER.length)]);
      tags.push('O');
    }
  };
  const entity = (name: string, type: string) => {
    [...name].forEach((ch, i) => {
      tokens.push(ch);
      tags.push(`${i === 0 ? 'B' : 'I'}-${type}`);
    });
  };
  filler(1 + rng.int(4));
  entity(CITIES[rng.int(CITIES.length)], 'LOC');
  filler(1 + rng.int(3));
  if (rng.next() < 0.5) entity(PEOPLE[rng.int(PEOPLE.length)], 'PER');
  filler(rng.int(3));
  return { tokens, tags };
}

function writeSplits(dir: string, make: (rng: Rng) => Sentence, sizes = { train: 240, dev: 40, test: 40 }) {
  const rng = new Rng(7);
  const files: Record<string, string> = {};
  for (const [name, n] of Object.entries(sizes)) {
    const lines = Array.from({ length: n }, () => {
      const s = make(rng);
      return `${s.tokens.join(' ')}\t${s.tags.join(' ')}`;
    });
    files[name] = path.join(dir, `${name}.tsv`);
    writeFileSync(files[name], lines.join('\n') + '\n');
  }
  return files as { train: string; dev: string; test: string };
}

function nerConfig(
  dir: string,
  model: Record<string, unknown>,
  dataset: Record<string, unknown> = {},
): TrainConfig {
  const files = writeSplits(dir, nerSentence);
  return parseConfig(
    {
      task: 'sequence_labeling',
      dataset: { train: files.train, dev: files.dev, test: files.test, max_len: 32, ...dataset },
      model: { embedding_dim: 32, hidden_size: 32, num_filters: 32, num_heads: 2, ffn_size: 64, ...model },
      trainer: {
        epochs: 6,
        batch_size: 16,
        learning_rate: model.net === 'transformer' ? 0.003 : 0.01,
        eval_step: 30,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
}

test('BiLSTM-CRF: trains on generated NER data, reaches entity F1 ≥ 0.9, reloads and predicts spans', async () => {
  const dir = tempDir('alembic-seq-');
  const config = nerConfig(dir, { net: 'lstm' });
  assert.equal(config.model.head, 'crf');
  assert.equal(config.dataset.tag_scheme, 'BIO');
  const summary = await train(config, { quiet: true, log: () => {} });
  assert.ok(summary.test!.f1 >= 0.9, `test entity F1 ${summary.test!.f1}`);
  assert.ok(summary.test!.f1_LOC >= 0.9 && summary.test!.accuracy >= 0.9);
  const log = readMetricsLog(path.join(config.trainer.output_dir, 'metrics.jsonl'));
  const evals = log.filter((e) => e.type === 'eval');
  assert.ok(
    evals.length >= 2 && evals.every((e) => typeof e.f1 === 'number' && typeof e.macro_f1 === 'number'),
  );
  assert.equal(summary.best!.metric, 'f1');

  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  const task = m.task as SequenceLabelingTask;
  assert.equal(task.defaultMetric, 'f1');
  const input = path.join(dir, 'predict.txt');
  // A raw line (cut into characters) and a pre-segmented one.
  writeFileSync(input, '我在厦门工作\n李 华 来 到 上 海\n');
  const examples = await task.read(input, { labelled: false });
  assert.deepEqual(examples[0].tokens, [...'我在厦门工作']);
  const preds = task.predict(
    m.model,
    examples.map((e) => task.encode(e)),
  );
  assert.deepEqual(preds[0].tags, ['O', 'O', 'B-LOC', 'I-LOC', 'O', 'O']);
  assert.deepEqual(preds[0].entities, [{ type: 'LOC', start: 2, end: 4, text: '厦门' }]);
  assert.deepEqual(preds[1].entities, [
    { type: 'PER', start: 0, end: 2, text: '李华' },
    { type: 'LOC', start: 4, end: 6, text: '上海' },
  ]);
  assert.equal(
    task.formatPrediction(examples[0], preds[0]),
    '我 在 厦 门 工 作\tO O B-LOC I-LOC O O\t[{"type":"LOC","start":2,"end":4,"text":"厦门"}]',
  );
  m.model.dispose();
});

for (const [net, head] of [
  ['gru', 'softmax'],
  ['transformer', 'crf'],
  ['cnn', 'crf'],
] as const) {
  test(`${net} with a ${head} head tags every token of sentences longer than max_len (windows)`, async () => {
    const dir = tempDir('alembic-seq-');
    // max_len 8 (6 tokens between [CLS] and [SEP] for the Transformer) splits most sentences in two or three.
    const config = nerConfig(dir, { net, head, num_layers: 1 }, { max_len: 8 });
    const summary = await train(config, { quiet: true, log: () => {} });
    assert.ok(summary.test!.f1 >= 0.85, `${net}/${head} test entity F1 ${summary.test!.f1}`);
    const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
    const tokens = [...'今天我们去了北京看见朋友李华然后到了上海工作学习'];
    const [pred] = m.task.predict(m.model, [m.task.encode({ tokens })]);
    assert.equal(pred.tags.length, tokens.length);
    m.model.dispose();
  });
}

test('tags without B-/I- structure (POS-like) are scored by token accuracy; predictions have two columns', async () => {
  const dir = tempDir('alembic-seq-');
  // The tag of a character is a fixed function of the character, like a lexicon.
  const tagOf = (ch: string) => ['n', 'v', 'adj'][ch.codePointAt(0)! % 3];
  const pos = (rng: Rng): Sentence => {
    const tokens = Array.from({ length: 3 + rng.int(6) }, () => FILLER[rng.int(FILLER.length)]);
    return { tokens, tags: tokens.map(tagOf) };
  };
  const files = writeSplits(dir, pos, { train: 120, dev: 30, test: 30 });
  const config = parseConfig(
    {
      task: 'sequence_labeling',
      dataset: { train: files.train, dev: files.dev },
      model: { net: 'bow', head: 'softmax', embedding_dim: 16, hidden_size: 16 },
      trainer: {
        epochs: 10,
        batch_size: 16,
        learning_rate: 0.02,
        eval_step: 40,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
  const summary = await train(config, { quiet: true, log: () => {} });
  assert.equal(summary.best!.metric, 'accuracy');
  assert.ok(summary.dev!.accuracy >= 0.95, `dev accuracy ${summary.dev!.accuracy}`);
  assert.equal(summary.dev!.f1, undefined);
  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  const e = { tokens: ['我', '们', '学', '习'] };
  const [p] = m.task.predict(m.model, [m.task.encode(e)]);
  assert.equal(m.task.formatPrediction(e, p), `我 们 学 习\t${e.tokens.map(tagOf).join(' ')}`);
  m.model.dispose();
});

// A small WordPiece vocabulary that cuts some words into pieces.
const WORDPIECE_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'we',
  'visited',
  'saw',
  'friends',
  'in',
  'today',
  'and',
  'then',
  'left',
  'home',
  'the',
  'city',
  'bos',
  '##ton',
  'port',
  '##land',
  'aus',
  '##tin',
  'denver',
  'chi',
  '##ca',
  '##go',
];

test('WordPiece alignment: the first piece of a token holds its tag, other pieces and [CLS]/[SEP] are ignored', () => {
  const vocab = new Vocab(WORDPIECE_VOCAB);
  const aligner = new TokenAligner(
    { tokenizer: { type: 'wordpiece', lowercase: true }, maxLen: 16, specials: true },
    vocab,
  );
  const id = (t: string) => vocab.id(t);
  assert.deepEqual(aligner.pieceIds('Chicago'), [id('chi'), id('##ca'), id('##go')]);
  const [row, ...rest] = aligner.rows(['We', 'visited', 'Chicago', 'today'], [0, 0, 1, 0]);
  assert.equal(rest.length, 0);
  assert.deepEqual(row.ids, [2, id('we'), id('visited'), id('chi'), id('##ca'), id('##go'), id('today'), 3]);
  assert.deepEqual(row.starts, [1, 2, 3, 6]);
  assert.deepEqual(pieceTargets(row), [IGNORE_INDEX, 0, 0, 1, IGNORE_INDEX, IGNORE_INDEX, 0, IGNORE_INDEX]);
  assert.deepEqual(pieceTargets(row, 10).slice(8), [IGNORE_INDEX, IGNORE_INDEX]);

  // max_len 6 leaves 4 pieces a row: whole tokens go to the next row, never split.
  const small = new TokenAligner(
    { tokenizer: { type: 'wordpiece', lowercase: true }, maxLen: 6, specials: true },
    vocab,
  );
  const rows = small.rows(['we', 'saw', 'boston', 'and', 'chicago'], [0, 0, 1, 0, 1]);
  assert.deepEqual(
    rows.map((r) => r.starts),
    [
      [1, 2, 3],
      [1, 2],
    ],
  );
  assert.deepEqual(rows[1].ids, [2, id('and'), id('chi'), id('##ca'), id('##go'), 3]);
  assert.deepEqual(
    rows.map((r) => r.tags),
    [
      [0, 0, 1],
      [0, 1],
    ],
  );
  assert.deepEqual(
    rows.map((r) => [r.first, r.last]),
    [
      [true, false],
      [false, true],
    ],
  );

  // char/whitespace/jieba: a given token is one id, never re-tokenised.
  const words = TokenAligner.fit(
    { tokenizer: { type: 'jieba', lowercase: true }, maxLen: 16, specials: false },
    [['海钓', '比赛', 'NLP'], ['海钓']],
    { minFreq: 1, maxSize: 100 },
  );
  const [plain] = words.rows(['海钓', '比赛', 'nlp', '地点']);
  assert.deepEqual(plain.ids, [
    words.vocab.id('海钓'),
    words.vocab.id('比赛'),
    words.vocab.id('nlp'),
    words.vocab.unkId,
  ]);
  assert.deepEqual(plain.starts, [0, 1, 2, 3]);
});

test('WordPiece + Transformer + softmax learns tags of words cut into pieces', async () => {
  const dir = tempDir('alembic-seq-');
  const vocabFile = path.join(dir, 'vocab.txt');
  writeFileSync(vocabFile, WORDPIECE_VOCAB.join('\n') + '\n');
  const CITY_WORDS = ['Boston', 'Portland', 'Austin', 'Denver', 'Chicago'];
  const FILL = [
    'we',
    'visited',
    'saw',
    'friends',
    'in',
    'today',
    'and',
    'then',
    'left',
    'home',
    'the',
    'city',
  ];
  const english = (rng: Rng): Sentence => {
    const tokens = Array.from({ length: 2 + rng.int(4) }, () => FILL[rng.int(FILL.length)]);
    const at = rng.int(tokens.length + 1);
    tokens.splice(at, 0, CITY_WORDS[rng.int(CITY_WORDS.length)]);
    return { tokens, tags: tokens.map((_, i) => (i === at ? 'B-LOC' : 'O')) };
  };
  const files = writeSplits(dir, english);
  const config = parseConfig(
    {
      task: 'sequence_labeling',
      dataset: {
        train: files.train,
        dev: files.dev,
        test: files.test,
        tokenizer: { type: 'wordpiece', vocab: vocabFile },
      },
      model: {
        net: 'transformer',
        head: 'softmax',
        hidden_size: 32,
        num_layers: 1,
        num_heads: 2,
        ffn_size: 64,
      },
      trainer: {
        epochs: 6,
        batch_size: 16,
        learning_rate: 0.003,
        eval_step: 30,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
  const summary = await train(config, { quiet: true, log: () => {} });
  assert.ok(summary.test!.f1 >= 0.9, `test F1 ${summary.test!.f1}`);
  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  const e = { tokens: ['we', 'left', 'Chicago', 'today'] };
  const [p] = m.task.predict(m.model, [m.task.encode(e)]);
  assert.deepEqual(p.tags, ['O', 'O', 'B-LOC', 'O']);
  assert.deepEqual(p.entities, [{ type: 'LOC', start: 2, end: 3, text: 'Chicago' }]);
  m.model.dispose();
});

test('tag schemes: chunk detection, the BIOES hint, decoding constraints', () => {
  assert.equal(isChunkTagSet(['B-LOC', 'I-LOC', 'O'], 'BIO'), true);
  assert.equal(isChunkTagSet(['B', 'M', 'E', 'S'], 'BIOES'), true);
  assert.equal(isChunkTagSet(['nn', 'vb', 'at'], 'BIO'), false);
  assert.equal(isChunkTagSet(['P', 'Z', 'B', 'U', 'X'], 'BIO'), false);
  assert.equal(isChunkTagSet(['O'], 'BIO'), false);
  assert.throws(
    () => isChunkTagSet(['B-LOC', 'E-LOC', 'S-LOC', 'O'], 'BIO'),
    (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /"E-LOC", "S-LOC" are BIOES tags; set "tag_scheme": "BIOES"/);
      return true;
    },
  );

  const bio = schemeConstraints(['B-LOC', 'B-PER', 'I-LOC', 'O'], 'BIO');
  assert.deepEqual(bio.transitions, [
    [true, true, true, true], // B-LOC → anything but I-PER (none here)
    [true, true, false, true], // B-PER ↛ I-LOC
    [true, true, true, true],
    [true, true, false, true], // O ↛ I-LOC
  ]);
  const bioes = schemeConstraints(['B-X', 'E-X', 'I-X', 'O', 'S-X'], 'BIOES');
  assert.deepEqual(bioes.transitions, [
    [false, true, true, false, false], // after B only I or E
    [true, false, false, true, true],
    [false, true, true, false, false],
    [true, false, false, true, true],
    [true, false, false, true, true],
  ]);
  assert.deepEqual(bioes.start, [true, false, false, true, true]);
  assert.deepEqual(bioes.end, [false, true, false, true, true]);
  assert.deepEqual(bio.start, [true, true, false, true]);
  assert.deepEqual(bio.end, [true, true, true, true]);
});

test('joinTokens: no space inside CJK text, spaces between other tokens', () => {
  assert.equal(joinTokens(['厦', '门']), '厦门');
  assert.equal(joinTokens(['New', 'York']), 'New York');
  assert.equal(joinTokens(['iPhone', '手', '机']), 'iPhone 手机');
});

test('a token/tag count mismatch stops training with an InputError naming the file and line', async () => {
  const dir = tempDir('alembic-seq-');
  const config = nerConfig(dir, { net: 'lstm' });
  const lines = readFileSync(config.dataset.train, 'utf8').split('\n');
  lines[2] = '海 钓 比 赛\tO O O';
  writeFileSync(config.dataset.train, lines.join('\n'));
  await assert.rejects(train(config, { quiet: true, log: () => {} }), (e: Error) => {
    assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
    assert.equal(e.message, `${config.dataset.train}:3: tags: 4 tokens but 3 tags`);
    return true;
  });
  // A dev tag the training data never had is named with its file and line too.
  writeFileSync(config.dataset.train, lines.filter((_, i) => i !== 2).join('\n'));
  writeFileSync(config.dataset.dev!, '去 北 京\tO B-LOC B-ORG\n');
  await assert.rejects(
    train(config, { quiet: true, log: () => {} }),
    /dev\.tsv:1: tags: "B-ORG" is not in the label map/,
  );
});

function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(ROOT, 'bin/alembic.js'), ...args],
      { cwd: ROOT },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

test('CLI: predict prints tokens, tags and entity spans; a bad training line exits 2 with one message', async () => {
  const dir = tempDir('alembic-seq-');
  const config = nerConfig(dir, { net: 'gru' });
  await train(config, { quiet: true, log: () => {} });
  const bad = path.join(dir, 'bad-train.tsv');
  writeFileSync(bad, '去 北 京\tO B-LOC I-LOC\n去 上 海\tO B-LOC\n');
  const configFile = path.join(dir, 'bad.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      task: 'sequence_labeling',
      dataset: { train: bad },
      model: { net: 'lstm' },
      trainer: { output_dir: path.join(dir, 'bad-run') },
    }),
  );
  // Both commands at once: each pays for starting tsx.
  const [predicted, failed] = await Promise.all([
    cli(['predict', '-m', path.join(config.trainer.output_dir, 'best')], '海钓比赛地点在厦门\n'),
    cli(['train', '--quiet', '-c', configFile]),
  ]);
  assert.equal(predicted.code, 0, predicted.stderr);
  assert.equal(
    predicted.stdout,
    'tokens\ttags\tentities\n' +
      '海 钓 比 赛 地 点 在 厦 门\tO O O O O O O B-LOC I-LOC\t[{"type":"LOC","start":7,"end":9,"text":"厦门"}]\n',
  );
  assert.equal(failed.code, 2);
  assert.equal(failed.stderr, `alembic: ${bad}:2: tags: 3 tokens but 2 tags\n`);
});
