/**
 * Streamed vs in-memory training data: peak memory and speed over generated training files of two sizes.
 * The claim to check: a streamed run's memory does not grow with the file, an in-memory run's does, and
 * streaming costs little speed. The files repeat real Tang and Song poems (the bundled chinese-poetry
 * corpus), each copy a different 24-character window of its poem, written to a temporary folder that is
 * removed afterwards. `--task text_classification` (default) labels a window with its poem's dynasty;
 * `--task sequence_labeling` tags each of its characters, space-separated: B where a clause starts, I
 * inside it, O for punctuation.
 *
 * Each run is a child process (so its peak RSS is its own): read the file (in memory: read, fit, encode
 * every example; streamed: one pass to index, validate and count the vocabulary), then `--steps`
 * optimizer steps of a character BOW classifier (or softmax tagger), batch 64. Printed per size and mode: preparation time,
 * training examples per second over the steps, peak RSS; then the ratio of the peak RSS of the larger file
 * to the smaller per mode, and streamed vs in-memory speed per size. bench/scale.ts runs the same
 * measurement (measureStreaming) over larger files.
 *
 *   npm run bench:streaming [-- --sizes 200000,2000000] [--steps 300] [--threads 1] [--task sequence_labeling]
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/run-config.js';
import { loadTangSong } from '../src/data/corpora/chinese-poetry.js';
import { train } from '../src/train/trainer.js';
import { textTable } from '../src/util/text-table.js';

const WINDOW = 24;
const BATCH = 64;

interface ChildResult {
  prepSeconds: number;
  examplesPerSecond: number;
  peakRssMiB: number;
}

export type BenchTask = 'text_classification' | 'sequence_labeling';

async function child(
  file: string,
  mode: string,
  steps: number,
  threads: number,
  task: BenchTask,
): Promise<void> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'alembic-bench-stream-run-'));
  const tagging = task === 'sequence_labeling';
  const config = parseConfig(
    {
      task,
      dataset: {
        train: file,
        streaming: mode === 'streamed',
        max_len: WINDOW,
        tokenizer: { type: tagging ? 'whitespace' : 'char' },
      },
      model: { net: 'bow', embedding_dim: 64, hidden_size: 64, ...(tagging ? { head: 'softmax' } : {}) },
      trainer: {
        max_steps: steps,
        batch_size: BATCH,
        train_log_step: 50,
        eval_step: 1_000_000,
        save_model_step: 1_000_000,
        threads,
        output_dir: path.join(out, 'run'),
      },
    },
    path.join(out, 'config.json'),
  );
  const started = performance.now();
  let firstStep = 0;
  let lastStep = 0;
  try {
    await train(config, {
      quiet: true,
      log: () => {},
      onStep: (step) => {
        if (step === 1) firstStep = performance.now();
        lastStep = performance.now();
      },
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const result: ChildResult = {
    prepSeconds: (firstStep - started) / 1000,
    examplesPerSecond: ((steps - 1) * BATCH) / ((lastStep - firstStep) / 1000),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** `lines` lines of `window<TAB>dynasty`, cycling through the poems with a different window each round. */
/** A window's characters, space-separated, and their tags: B starts a clause, I goes on, O is punctuation. */
function taggedLine(window: string): string {
  const chars = [...window];
  let start = true;
  const tags = chars.map((c) => {
    if (/\p{P}/u.test(c)) {
      start = true;
      return 'O';
    }
    const tag = start ? 'B' : 'I';
    start = false;
    return tag;
  });
  return `${chars.join(' ')}\t${tags.join(' ')}`;
}

/**
 * `lines` lines of `window<TAB>dynasty` (or a tagged window), cycling through the poems with a different
 * window each round.
 */
function writeCorpusFile(
  file: string,
  lines: number,
  poems: { text: string; label: string }[],
  task: BenchTask,
): void {
  writeFileSync(file, '');
  const chunk: string[] = [];
  for (let i = 0; i < lines; i++) {
    const poem = poems[i % poems.length];
    const round = Math.floor(i / poems.length);
    const start = round % Math.max(1, poem.text.length - WINDOW + 1);
    const window = poem.text.slice(start, start + WINDOW);
    chunk.push(task === 'sequence_labeling' ? taggedLine(window) : `${window}\t${poem.label}`);
    if (chunk.length === 50_000 || i === lines - 1) {
      appendFileSync(file, chunk.join('\n') + '\n');
      chunk.length = 0;
    }
  }
}

/** Modes of reading the training file, as the bench names them. */
export type DataMode = 'in memory' | 'streamed';

export interface StreamingOptions {
  /** Training-file sizes in lines, smallest first. */
  sizes: number[];
  /** Optimizer steps per run (batch 64), unless the file gets a whole epoch (epochUpTo). */
  steps: number;
  threads: number;
  /** Files up to this many lines are also read into memory; larger ones are streamed only. */
  inMemoryUpTo?: number;
  /** Files up to this many lines are trained for one whole epoch instead of `steps` steps. */
  epochUpTo?: number;
  /** What the file holds and the model learns (default text_classification). */
  task?: BenchTask;
}

export interface StreamingRun extends ChildResult {
  size: number;
  mode: DataMode;
  fileMiB: number;
  steps: number;
}

/**
 * Trains over a generated file of each size, in memory and streamed, each run a child process; returns
 * the runs, having printed each as it finished. The files live in a temporary folder removed afterwards.
 */
export function measureStreaming(o: StreamingOptions): StreamingRun[] {
  const task = o.task ?? 'text_classification';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-bench-stream-'));
  try {
    const poems = loadTangSong({ limitPerClass: 20_000 })
      .map((p) => ({ text: p.text.replace(/\s+/g, ''), label: p.label! }))
      .filter((p) => p.text.length >= 8);
    console.log(`corpus: ${poems.length} Tang and Song poems, ${WINDOW}-character windows, ${task}`);
    const runs: StreamingRun[] = [];
    for (const size of o.sizes) {
      const file = path.join(dir, `train-${size}.tsv`);
      writeCorpusFile(file, size, poems, task);
      const fileMiB = statSync(file).size / 2 ** 20;
      const steps = size <= (o.epochUpTo ?? 0) ? Math.ceil(size / BATCH) : o.steps;
      const modes: DataMode[] =
        size <= (o.inMemoryUpTo ?? Infinity) ? ['in memory', 'streamed'] : ['streamed'];
      for (const mode of modes) {
        const run = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            fileURLToPath(import.meta.url),
            '--child',
            file,
            mode,
            String(steps),
            String(o.threads),
            task,
          ],
          { encoding: 'utf8', maxBuffer: 1 << 24 },
        );
        if (run.status !== 0) throw new Error(`${mode} run over ${size} lines failed:\n${run.stderr}`);
        const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildResult;
        runs.push({ ...r, size, mode, fileMiB, steps });
        console.log(streamingRow(runs[runs.length - 1]!).join('  '));
      }
      rmSync(file, { force: true });
    }
    return runs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function streamingRow(r: StreamingRun): string[] {
  return [
    r.size.toLocaleString('en'),
    r.fileMiB.toFixed(0),
    r.mode,
    r.steps.toLocaleString('en'),
    r.prepSeconds.toFixed(1),
    r.examplesPerSecond.toFixed(0),
    r.peakRssMiB.toFixed(0),
  ];
}

/** The runs' table, peak RSS of the largest file ÷ the smallest per mode, and streamed ÷ in-memory speed. */
export function printStreaming(runs: StreamingRun[]): void {
  console.log(
    '\n' +
      textTable(
        ['lines', 'file MiB', 'training data', 'steps', 'prepare s', 'train examples/s', 'peak RSS MiB'],
        runs.map(streamingRow),
      ).join('\n'),
  );
  console.log('\npeak RSS, largest file ÷ smallest file (flat = 1.00×):');
  for (const mode of ['in memory', 'streamed'] as const) {
    const of = runs.filter((r) => r.mode === mode);
    if (of.length < 2) continue;
    const [small, large] = [of[0]!, of[of.length - 1]!];
    console.log(
      `  ${mode}: ${(large.peakRssMiB / small.peakRssMiB).toFixed(2)}× from ${small.size.toLocaleString('en')} ` +
        `to ${large.size.toLocaleString('en')} lines (file ${large.size / small.size}×)`,
    );
  }
  console.log('\ntraining speed, streamed ÷ in memory:');
  for (const r of runs.filter((r) => r.mode === 'in memory')) {
    const streamed = runs.find((s) => s.size === r.size && s.mode === 'streamed')!;
    console.log(
      `  ${r.size.toLocaleString('en')} lines: ${(streamed.examplesPerSecond / r.examplesPerSecond).toFixed(2)}×`,
    );
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '200000,2000000' },
      steps: { type: 'string', default: '300' },
      threads: { type: 'string', default: '1' },
      task: { type: 'string', default: 'text_classification' },
    },
  });
  if (values.task !== 'text_classification' && values.task !== 'sequence_labeling')
    throw new Error(`--task: text_classification or sequence_labeling, not ${values.task}`);
  const runs = measureStreaming({
    sizes: values.sizes.split(',').map(Number),
    steps: Number(values.steps),
    threads: Number(values.threads),
    task: values.task,
  });
  printStreaming(runs);
}

const args = process.argv.slice(2);
if (args[0] === '--child')
  await child(args[1], args[2], Number(args[3]), Number(args[4]), args[5] as BenchTask);
else if (process.argv[1] === fileURLToPath(import.meta.url)) main();
