/**
 * Model-only latency and throughput: the network from token ids to probabilities, without tokenisation
 * or HTTP, so the figures compare with graphs measured the same way elsewhere. A trained model directory
 * runs in libtorch (the training engine); an exported directory in onnxruntime-node (fp32 or int8, as
 * exported). Inputs are random token ids of the model's max_len, every row full length, because speed
 * depends on shapes, not on what the ids mean.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { readDeployManifest, type DeployManifest } from '../export/manifest.js';
import { checkOnnxModel } from '../onnx/check-model.js';
import { loadSession, type TensorValue } from '../onnx/index.js';
import { INPUT_IDS, INPUT_IDS_B } from '../export/io.js';
import { timeInterleaved, timeRuns, type LatencySummary, type TimingOptions } from './stats.js';

export type BenchRuntime = 'libtorch' | 'onnx-fp32' | 'onnx-int8';

export interface BenchTarget {
  dir: string;
  manifest: DeployManifest;
  runtime: BenchRuntime;
  /** Sequence length the inputs have (the model's max_len unless overridden). */
  seq: number;
  /** Rows of vocab.txt (ids are drawn below it). */
  vocabSize: number;
}

export interface ModelBenchRow {
  target: BenchTarget;
  batch: number;
  latency: LatencySummary;
}

export interface ModelBenchOptions {
  batchSizes: number[];
  /** Intra-op threads for onnxruntime and libtorch. */
  threads: number;
  timing: TimingOptions;
  /** Override the sequence length (default: the model's max_len). */
  seq?: number;
  seed?: number;
}

/** What kind of directory `dir` is and how it would be run. */
export function describeTarget(dir: string, seq?: number): BenchTarget {
  const manifest = readDeployManifest(dir);
  const runtime: BenchRuntime = !manifest.onnx ? 'libtorch' : manifest.onnx.int8 ? 'onnx-int8' : 'onnx-fp32';
  const vocabText = readFileSync(path.join(dir, 'vocab.txt'), 'utf8');
  const vocabSize = vocabText.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '').length;
  if (manifest.onnx) {
    // A damaged graph or a mismatched vocab.txt is refused here as predict and serve refuse it.
    const file = path.join(dir, manifest.onnx.file);
    checkOnnxModel(readFileSync(file), file, {
      vocab: { size: vocabSize, file: path.join(dir, 'vocab.txt') },
      idInputs: [INPUT_IDS, INPUT_IDS_B],
    });
  }
  return { dir, manifest, runtime, seq: seq ?? manifest.config.dataset.max_len, vocabSize };
}

/** The first ids of a vocabulary built from data are the special tokens; the inputs avoid them. */
const FIRST_PLAIN_ID = 5;

/** `batch` rows of `seq` random token ids. */
export function randomIds(rng: Rng, batch: number, seq: number, vocabSize: number): number[][] {
  const span = Math.max(1, vocabSize - FIRST_PLAIN_ID);
  return Array.from({ length: batch }, () =>
    Array.from({ length: seq }, () => FIRST_PLAIN_ID + rng.int(span)),
  );
}

type Runner = { once: () => Promise<unknown> | unknown; close: () => Promise<void> };

/** An ONNX file and the names and widths of its inputs: all a runner needs to feed it. */
export interface OnnxGraphSpec {
  file: string;
  /** The model itself, when it is not read from `file` (which then only names it). */
  bytes?: Uint8Array;
  inputs: { name: string; dims: readonly (number | string)[] }[];
  outputs: string[];
}

export function graphSpecOf(t: BenchTarget): OnnxGraphSpec {
  const onnx = t.manifest.onnx!;
  return {
    file: path.join(t.dir, onnx.file),
    inputs: onnx.inputs.map((i) => ({ name: i.name, dims: i.dims })),
    outputs: onnx.outputs.map((o) => o.name),
  };
}

/** Full-length feeds for `rows` by input name (the names of src/deploy/export/io.ts). */
function feedsFor(g: OnnxGraphSpec, rows: number[][]): Record<string, TensorValue> {
  const [batch, seq] = [rows.length, rows[0].length];
  const ids = BigInt64Array.from(rows.flat(), (v) => BigInt(v));
  const feeds: Record<string, TensorValue> = {};
  for (const input of g.inputs) {
    if (input.name === 'input_ids' || input.name === 'input_ids_b')
      feeds[input.name] = { data: ids, dims: [batch, seq] };
    else if (input.name === 'attention_mask' || input.name === 'attention_mask_b')
      feeds[input.name] = { data: new BigInt64Array(batch * seq).fill(1n), dims: [batch, seq] };
    else if (input.name === 'token_type_ids')
      feeds[input.name] = { data: new BigInt64Array(batch * seq), dims: [batch, seq] };
    else if (input.name === 'char_ids') {
      // Every word [UNK] characters for its whole width: the char CNN's cost does not depend on the ids.
      const n = Number(input.dims[2]);
      feeds[input.name] = { data: new BigInt64Array(batch * seq * n).fill(1n), dims: [batch, seq, n] };
    } else if (input.name === 'numeric_features') {
      const n = Number(input.dims[1]);
      feeds[input.name] = { data: new Float32Array(batch * n), dims: [batch, n] };
    } else throw new UserError(`${g.file}: the benchmark does not know how to feed input "${input.name}"`);
  }
  return feeds;
}

async function onnxRunner(g: OnnxGraphSpec, rows: number[][], threads: number): Promise<Runner> {
  const session = await loadSession(g.bytes ?? g.file, { intraOpThreads: threads });
  const feeds = feedsFor(g, rows);
  const outputs = g.outputs.includes('probabilities') ? ['probabilities'] : undefined;
  return { once: () => session.run(feeds, outputs), close: () => session.release() };
}

/**
 * Times two graphs that take the same inputs in alternating slices, at each batch size, so both see the same
 * machine: `seq` random ids below `vocabSize` per row.
 */
export async function benchPair(
  a: OnnxGraphSpec,
  b: OnnxGraphSpec,
  shape: { seq: number; vocabSize: number },
  opts: ModelBenchOptions,
): Promise<{ batch: number; a: LatencySummary; b: LatencySummary }[]> {
  const rng = new Rng(opts.seed ?? 7);
  const out: { batch: number; a: LatencySummary; b: LatencySummary }[] = [];
  for (const batch of opts.batchSizes) {
    const ids = randomIds(rng, batch, shape.seq, shape.vocabSize);
    const first = await onnxRunner(a, ids, opts.threads);
    const second = await onnxRunner(b, ids, opts.threads);
    try {
      const [la, lb] = await timeInterleaved([first.once, second.once], batch, opts.timing);
      out.push({ batch, a: la, b: lb });
    } finally {
      await first.close();
      await second.close();
    }
  }
  return out;
}

/** Times an exported directory against a reference graph of the same shape (another framework's export, supplied by a benchmark harness). */
export async function benchAgainst(
  t: BenchTarget,
  reference: OnnxGraphSpec,
  opts: ModelBenchOptions,
): Promise<{ rows: ModelBenchRow[]; reference: { batch: number; latency: LatencySummary }[] }> {
  const pairs = await benchPair(graphSpecOf(t), reference, t, opts);
  return {
    rows: pairs.map((p) => ({ target: t, batch: p.batch, latency: p.a })),
    reference: pairs.map((p) => ({ batch: p.batch, latency: p.b })),
  };
}

async function torchRunner(t: BenchTarget, rows: number[][], threads: number): Promise<Runner> {
  // libtorch loads only when a trained directory is benchmarked.
  const { loadModelDir } = await import('../../train/model-dir.js');
  const { setNumThreads } = await import('../../engine/runtime.js');
  setNumThreads(threads);
  const m = loadModelDir(t.dir);
  if (
    !['text_classification', 'text_pair_classification', 'multi_label_classification'].includes(
      m.manifest.task,
    )
  )
    throw new UserError(
      `${t.dir}: the libtorch benchmark runs classification models, not ${m.manifest.task}`,
    );
  const numeric = (m.manifest.state as { numeric?: { names: string[] } }).numeric?.names.length ?? 0;
  const transformer = m.manifest.net === 'transformer';
  const pair = m.manifest.task === 'text_pair_classification';
  const features = rows.map((ids) => ({
    a: transformer && pair ? { ids, typeIds: ids.map(() => 0) } : { ids },
    ...(pair && !transformer ? { b: { ids } } : {}),
    ...(numeric ? { numeric: new Array<number>(numeric).fill(0) } : {}),
  }));
  return {
    once: () => m.task.predict(m.model, features),
    close: async () => m.model.dispose(),
  };
}

/**
 * Times a runner made for each batch size (full-length random ids of `seq` below `vocabSize`), closing it
 * after its measurement.
 */
async function timeEachBatch(
  shape: { seq: number; vocabSize: number },
  makeRunner: (ids: number[][]) => Promise<Runner>,
  opts: ModelBenchOptions,
): Promise<{ batch: number; latency: LatencySummary }[]> {
  const rng = new Rng(opts.seed ?? 7);
  const rows: { batch: number; latency: LatencySummary }[] = [];
  for (const batch of opts.batchSizes) {
    const runner = await makeRunner(randomIds(rng, batch, shape.seq, shape.vocabSize));
    try {
      rows.push({ batch, latency: await timeRuns(runner.once, batch, opts.timing) });
    } finally {
      await runner.close();
    }
  }
  return rows;
}

/** Times an ONNX graph that is not an exported directory (the host floor's empty graph) at each batch size. */
export function benchGraph(
  g: OnnxGraphSpec,
  seq: number,
  opts: ModelBenchOptions,
): Promise<{ batch: number; latency: LatencySummary }[]> {
  return timeEachBatch({ seq, vocabSize: 1000 }, (ids) => onnxRunner(g, ids, opts.threads), opts);
}

/** Times one directory at each batch size. */
export async function benchTarget(t: BenchTarget, opts: ModelBenchOptions): Promise<ModelBenchRow[]> {
  const rows = await timeEachBatch(
    t,
    (ids) =>
      t.runtime === 'libtorch'
        ? torchRunner(t, ids, opts.threads)
        : onnxRunner(graphSpecOf(t), ids, opts.threads),
    opts,
  );
  return rows.map((r) => ({ target: t, ...r }));
}
