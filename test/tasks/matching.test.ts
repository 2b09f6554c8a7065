import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { clusterByCosine } from '../../src/cli/cluster.js';
import { parseConfig, type TrainConfig } from '../../src/config/run-config.js';
import { loadModelDir, type LoadedModel } from '../../src/train/model-dir.js';
import { readMetricsLog, train } from '../../src/train/trainer.js';
import { MatchingTask, type MatchingExample } from '../../src/tasks/matching.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

// Generated paraphrase data: a sentence is three distinct concepts, each written with one of two synonyms;
// a paraphrase is the same concepts in another order with the synonyms chosen afresh, a non-paraphrase
// is another random sentence. Whether a pair matches is known, and only learnt synonymy makes it visible
// when the surface words differ.
const CONCEPTS = [
  ['高兴', '开心'],
  ['电脑', '计算机'],
  ['手机', '电话'],
  ['买', '购买'],
  ['便宜', '实惠'],
  ['快', '迅速'],
  ['漂亮', '好看'],
  ['房子', '住宅'],
  ['汽车', '轿车'],
  ['工作', '上班'],
  ['学习', '读书'],
  ['朋友', '伙伴'],
];
const ROOT = path.resolve(import.meta.dirname, '..', '..');

function concepts(rng: Rng, avoid: number[] = []): number[] {
  const c: number[] = [];
  while (c.length < 3) {
    const k = rng.int(CONCEPTS.length);
    if (!c.includes(k) && !avoid.includes(k)) c.push(k);
  }
  return c;
}

/** Words of the concepts; `synonyms` false always takes the first word (exact-word paraphrases). */
function render(rng: Rng, c: number[], synonyms = true): string {
  return c.map((k) => CONCEPTS[k][synonyms ? rng.int(2) : 0]).join(' ');
}

function writeLines(file: string, lines: string[]): string {
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** `a<TAB>b<TAB>0|1`, half paraphrases. */
function pointwiseLines(n: number, seed: number, synonyms = true): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const a = concepts(rng);
    const same = rng.next() < 0.5;
    const b = same ? rng.shuffle([...a]) : concepts(rng);
    return `${render(rng, a, synonyms)}\t${render(rng, b, synonyms)}\t${same ? 1 : 0}`;
  });
}

/** `a<TAB>b<TAB>shared concepts` (0–3): a graded score. */
function scoredLines(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const a = concepts(rng);
    const keep = rng.int(4);
    const b = [...a.slice(0, keep), ...concepts(rng, a).slice(0, 3 - keep)];
    return `${render(rng, a)}\t${render(rng, rng.shuffle(b))}\t${keep}`;
  });
}

/** `query<TAB>paraphrase<TAB>random sentence` (the random one shares no concept with the query). */
function pairwiseLines(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const q = concepts(rng);
    return `${render(rng, q)}\t${render(rng, rng.shuffle([...q]))}\t${render(rng, concepts(rng, q))}`;
  });
}

/** Ranking data: each query with its paraphrase (1) and four random sentences (0), pointwise. */
function rankingLines(queries: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: queries }, () => {
    const q = concepts(rng);
    const query = render(rng, q);
    const lines = [`${query}\t${render(rng, rng.shuffle([...q]))}\t1`];
    for (let k = 0; k < 4; k++) lines.push(`${query}\t${render(rng, concepts(rng))}\t0`);
    return rng.shuffle(lines);
  }).flat();
}

function matchingConfig(
  dir: string,
  files: { train: string; dev?: string; test?: string },
  model: Record<string, unknown>,
  trainer: Record<string, unknown> = {},
): TrainConfig {
  return parseConfig(
    {
      task: 'text_matching',
      dataset: { ...files, tokenizer: { type: 'whitespace' }, max_len: 16 },
      model: {
        // These tiny models' exact outcomes (the CLI's clusters) are asserted: no word dropout to [UNK].
        word_dropout: 0,
        embedding_dim: 32,
        hidden_size: 32,
        num_filters: 16,
        num_heads: 2,
        ffn_size: 64,
        dropout: 0,
        ...model,
      },
      trainer: {
        epochs: 10,
        batch_size: 16,
        learning_rate: 0.01,
        eval_step: 50,
        train_log_step: 5,
        threads: 1,
        output_dir: path.join(dir, 'run'),
        ...trainer,
      },
    },
    path.join(dir, 'config.json'),
  );
}

const quiet = { quiet: true, log: () => {} };

function scorePairs(m: LoadedModel, pairs: [string, string][]): number[] {
  const features = pairs.map(([textA, textB]) => m.task.encode({ textA, textB }));
  return m.task.predict(m.model, features).map((p: { score: number }) => p.score);
}

/** One trained pairwise bow model (cosine head by default), shared by the ranking and CLI tests. */
let pairwiseRun: Promise<{ dir: string; config: TrainConfig; ranking: string }> | undefined;
function pairwiseModel() {
  pairwiseRun ??= (async () => {
    const dir = tempDir('alembic-matching-');
    const config = matchingConfig(
      dir,
      {
        train: writeLines(path.join(dir, 'train.tsv'), pairwiseLines(400, 1)),
        dev: writeLines(path.join(dir, 'dev.tsv'), pairwiseLines(60, 2)),
      },
      { net: 'bow' },
    );
    await train(config, quiet);
    return { dir, config, ranking: writeLines(path.join(dir, 'ranking.tsv'), rankingLines(40, 3)) };
  })();
  return pairwiseRun;
}

function alembic(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/alembic.js'), ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('pointwise 0/1 with a siamese bow: MLP head by default, accuracy and AUC, paraphrases score higher', async () => {
  const dir = tempDir('alembic-matching-');
  const config = matchingConfig(
    dir,
    {
      train: writeLines(path.join(dir, 'train.tsv'), pointwiseLines(400, 1)),
      dev: writeLines(path.join(dir, 'dev.tsv'), pointwiseLines(100, 2)),
      test: writeLines(path.join(dir, 'test.tsv'), pointwiseLines(100, 3)),
    },
    { net: 'bow' },
  );
  const summary = await train(config, quiet);
  assert.ok(summary.test!.accuracy >= 0.9, `test accuracy ${summary.test!.accuracy}`);
  assert.ok(summary.test!.auc >= 0.95, `test AUC ${summary.test!.auc}`);
  assert.equal(summary.best!.metric, 'accuracy');
  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  assert.equal((m.task as MatchingTask).head, 'mlp');
  assert.equal((m.task as MatchingTask).mode, 'binary');
  const [para, other] = scorePairs(m, [
    ['高兴 电脑 汽车', '轿车 开心 计算机'],
    ['高兴 电脑 汽车', '工作 读书 伙伴'],
  ]);
  assert.ok(para > 0.5 && other < 0.5, `paraphrase ${para}, unrelated ${other}`);
  m.model.dispose();
});

test('pointwise 0/1 with the cosine head: the similarity is the cosine of the two text vectors', async () => {
  const dir = tempDir('alembic-matching-');
  const config = matchingConfig(
    dir,
    {
      train: writeLines(path.join(dir, 'train.tsv'), pointwiseLines(400, 1)),
      dev: writeLines(path.join(dir, 'dev.tsv'), pointwiseLines(100, 2)),
    },
    { net: 'bow', matching_head: 'cosine' },
  );
  const summary = await train(config, quiet);
  assert.ok(summary.dev!.accuracy >= 0.9, `dev accuracy ${summary.dev!.accuracy}`);
  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  const task = m.task as MatchingTask;
  assert.equal(task.head, 'cosine');
  const a = '高兴 电脑 汽车';
  const b = '工作 读书 开心';
  const [u, v] = task.embed(m.model, [a, b]);
  const dot = u.reduce((s, x, i) => s + x * v[i], 0);
  const cosine = dot / Math.hypot(...u) / Math.hypot(...v);
  assert.ok(Math.abs(scorePairs(m, [[a, b]])[0] - cosine) < 1e-4);
  m.model.dispose();
});

test('graded scores: cosine head by default, Pearson/Spearman, predictions on the label scale', async () => {
  const dir = tempDir('alembic-matching-');
  const config = matchingConfig(
    dir,
    {
      train: writeLines(path.join(dir, 'train.tsv'), scoredLines(500, 1)),
      dev: writeLines(path.join(dir, 'dev.tsv'), scoredLines(100, 2)),
    },
    { net: 'bow' },
  );
  const summary = await train(config, quiet);
  assert.equal(summary.best!.metric, 'spearman');
  assert.ok(summary.dev!.pearson >= 0.85, `pearson ${summary.dev!.pearson}`);
  assert.ok(summary.dev!.spearman >= 0.85, `spearman ${summary.dev!.spearman}`);
  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  const task = m.task as MatchingTask;
  assert.equal(task.head, 'cosine');
  assert.deepEqual(task.scoreRange, { min: 0, max: 3 });
  const [same, none] = scorePairs(m, [
    ['高兴 电脑 汽车', '轿车 开心 计算机'],
    ['高兴 电脑 汽车', '工作 读书 伙伴'],
  ]);
  assert.ok(same > 2 && none < 1, `3 shared concepts → ${same}, none → ${none}`);
  m.model.dispose();
});

test('pairwise: the margin ranking loss falls, and the trained model ranks with MRR ≥ 0.9', async () => {
  const { config, ranking } = await pairwiseModel();
  const log = readMetricsLog(path.join(config.trainer.output_dir, 'metrics.jsonl'));
  const losses = log.filter((e) => e.type === 'train').map((e) => Number(e.loss));
  assert.ok(losses.at(-1)! < losses[0] / 3, `loss ${losses[0]} → ${losses.at(-1)}`);
  const evals = log.filter((e) => e.type === 'eval');
  assert.ok(evals.every((e) => typeof e.mrr === 'number' && typeof e.pair_accuracy === 'number'));

  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  assert.equal((m.task as MatchingTask).mode, 'pairwise');
  const examples: MatchingExample[] = await m.task.read(ranking, { labelled: true });
  const r = m.task.evaluate(
    m.model,
    examples,
    examples.map((e) => m.task.encode(e)),
    64,
  );
  assert.ok(r.metrics.mrr >= 0.9, `MRR ${r.metrics.mrr}`);
  assert.ok(r.metrics['ndcg@5'] >= 0.9, `NDCG@5 ${r.metrics['ndcg@5']}`);
  m.model.dispose();
});

test('siamese cnn, gru and lstm learn pointwise matching too', async () => {
  for (const net of ['cnn', 'gru', 'lstm']) {
    const dir = tempDir('alembic-matching-');
    const config = matchingConfig(
      dir,
      {
        train: writeLines(path.join(dir, 'train.tsv'), pointwiseLines(300, 1, false)),
        dev: writeLines(path.join(dir, 'dev.tsv'), pointwiseLines(60, 2, false)),
      },
      { net },
      { epochs: 6, eval_step: 1000 },
    );
    const summary = await train(config, quiet);
    assert.ok(summary.dev!.accuracy >= 0.85, `${net}: dev accuracy ${summary.dev!.accuracy}`);
  }
});

test('transformer cross-encoder: reads the pair together with segment ids; has no per-text vectors', async () => {
  const dir = tempDir('alembic-matching-');
  const config = matchingConfig(
    dir,
    {
      train: writeLines(path.join(dir, 'train.tsv'), pointwiseLines(600, 1, false)),
      dev: writeLines(path.join(dir, 'dev.tsv'), pointwiseLines(100, 2, false)),
    },
    { net: 'transformer', num_layers: 2 },
    { epochs: 15, learning_rate: 0.002, eval_step: 1000 },
  );
  const summary = await train(config, quiet);
  assert.ok(summary.dev!.accuracy >= 0.85, `dev accuracy ${summary.dev!.accuracy}`);
  const m = loadModelDir(path.join(config.trainer.output_dir, 'best'));
  const task = m.task as MatchingTask;
  assert.equal(task.head, 'cross');
  const f = task.encode({ textA: '高兴 电脑', textB: '汽车' });
  assert.equal(f.pair.b, undefined);
  assert.deepEqual(f.pair.a.typeIds, [0, 0, 0, 0, 1, 1]); // [CLS] 高兴 电脑 [SEP] 汽车 [SEP]
  assert.throws(() => task.embed(m.model, ['高兴']), UserError);
  m.model.dispose();
  assert.throws(
    () =>
      new MatchingTask(
        matchingConfig(dir, { train: config.dataset.train }, { net: 'transformer', matching_head: 'cosine' }),
      ),
    /cross-encoder/,
  );
});

test('clusterByCosine: connected components chain, leader clustering does not', () => {
  // Unit vectors at 0°, 40°, 80° and 180°: neighbours are cos 40° ≈ 0.766 apart, 0° and 80° cos 80° ≈ 0.174.
  const deg = (d: number) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)];
  const vectors = [deg(0), deg(40), deg(80), deg(180)];
  assert.deepEqual(clusterByCosine(vectors, 0.7, 'components'), [0, 0, 0, 1]);
  assert.deepEqual(clusterByCosine(vectors, 0.7, 'leader'), [0, 0, 1, 2]);
  assert.deepEqual(clusterByCosine(vectors, 0.8, 'components'), [0, 1, 2, 3]);
  assert.deepEqual(clusterByCosine(vectors, -1, 'components'), [0, 0, 0, 0]);
  // Vector length does not matter, only direction.
  assert.deepEqual(
    clusterByCosine(
      [
        [3, 0],
        [0, 2],
        [5, 0.1],
      ],
      0.9,
      'leader',
    ),
    [0, 1, 0],
  );
});

test('CLI: predict writes a<TAB>b<TAB>score, embed one vector per text, cluster groups paraphrases', async () => {
  const { dir, config } = await pairwiseModel();
  const model = path.join(config.trainer.output_dir, 'best');
  const pairs = writeLines(path.join(dir, 'pairs.tsv'), [
    '高兴 电脑 汽车\t轿车 开心 计算机',
    '高兴 电脑 汽车\t工作 读书 伙伴',
  ]);
  const predicted = alembic(['predict', '--model', model, '--input', pairs]);
  assert.equal(predicted.status, 0, predicted.stderr);
  const [header, ...rows] = predicted.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  assert.deepEqual(header, ['text_a', 'text_b', 'score']);
  assert.deepEqual(
    rows.map((r) => r.slice(0, 2)),
    [
      ['高兴 电脑 汽车', '轿车 开心 计算机'],
      ['高兴 电脑 汽车', '工作 读书 伙伴'],
    ],
  );
  assert.ok(Number(rows[0][2]) > Number(rows[1][2]), predicted.stdout);

  const texts = [
    '高兴 电脑 汽车',
    '轿车 开心 计算机',
    '计算机 高兴 轿车',
    '工作 读书 伙伴',
    '伙伴 学习 上班',
    '上班 朋友 读书',
  ];
  const textFile = writeLines(path.join(dir, 'texts.txt'), texts);
  const json = alembic(['embed', '--model', model, '--input', textFile, '--normalize']);
  assert.equal(json.status, 0, json.stderr);
  const vectors = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as number[]);
  assert.equal(vectors.length, texts.length);
  assert.equal(vectors[0].length, 32); // the bow encoder's hidden_size
  for (const v of vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4);

  const tsv = alembic(['embed', '--model', model, '--format', 'tsv'], texts.join('\n') + '\n');
  assert.equal(tsv.status, 0, tsv.stderr);
  const tsvRows = tsv.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t').map(Number));
  assert.equal(tsvRows.length, texts.length);
  assert.equal(tsvRows[0].length, 32);

  const clustered = alembic(['cluster', '--model', model, '--input', textFile, '--threshold', '0.8']);
  assert.equal(clustered.status, 0, clustered.stderr);
  const lines = clustered.stdout
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  assert.deepEqual(
    lines.map((l) => l[1]),
    texts,
  );
  assert.deepEqual(
    lines.map((l) => Number(l[0])),
    [0, 0, 0, 1, 1, 1],
  );

  const bad = alembic(['cluster', '--model', model, '--input', textFile, '--threshold', '2']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--threshold/);
});
