/**
 * `alembic export`: a trained model directory → an exported directory that runs without libtorch:
 *   model.onnx           the graph (int8 weight matrices with --int8)
 *   alembic-model.json   the trained manifest plus `onnx: {file, opset, int8, inputs, outputs}`
 *   vocab.txt, label_map.json, …   every other file of the model directory except the torch weights
 * With --int8 and a dev file in the config, the dev set is predicted with both the float and the int8 graph
 * and the change in the task's metric is reported; asked to (`speedSeconds`), the two graphs are also timed
 * against each other on this machine, because whether int8 is faster depends on the net and the CPU.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { EXTRA_WEIGHTS_FILE } from '../../train/hf-layout.js';
import { loadModelDir, WEIGHTS_FILE } from '../../train/model-dir.js';
import { lockDir } from '../../util/dir-lock.js';
import { UserError } from '../../util/errors.js';
import { checkOnnxModel } from '../onnx/check-model.js';
import { assertReplaceable, replaceDir, type DirKind } from '../../util/replace-dir.js';
import { loadSession, type QuantizeReport } from '../onnx/index.js';
import { OnnxPredictor } from '../onnx-predictor.js';
import { benchPair, describeTarget, graphSpecOf } from '../bench/model-bench.js';
import { exportModel, exporterFor, type ExportOptions } from './exporter.js';
import { writeHfExportFiles } from './hf-layout-export.js';
import type { OnnxSection } from './io.js';
import { EXPORT_DIR, MANIFEST_FILE, type DeployManifest } from './manifest.js';

export interface DevComparison {
  file: string;
  examples: number;
  metric: string;
  fp32: number;
  int8: number;
  /** Share of examples whose predicted labels are the same under both graphs. */
  agreement: number;
}

/** The int8 graph timed against the fp32 graph of the same model, alternately, on this machine. */
export interface SpeedComparison {
  threads: number;
  seq: number;
  /** Inputs per second of each graph at each batch size. */
  rows: { batch: number; fp32: number; int8: number }[];
}

export interface ExportDirOptions extends ExportOptions {
  /** With int8: seconds to time the int8 graph against the fp32 one per batch size (absent or 0: not timed). */
  speedSeconds?: number;
  /**
   * Replace `outDir` even when it is not an earlier export (a directory with other files in it); never one
   * that is or contains the model being exported.
   */
  force?: boolean;
}

export interface ExportReport {
  outDir: string;
  section: OnnxSection;
  bytes: number;
  quantized?: QuantizeReport;
  dev?: DevComparison;
  /** Why there is no dev comparison with --int8 (no dev file, task without a dev check). */
  devSkipped?: string;
  speed?: SpeedComparison;
  /** Why the speed comparison could not run (a graph input the timing cannot feed). */
  speedSkipped?: string;
}

export async function exportModelDir(
  modelDir: string,
  outDir: string,
  opts: ExportDirOptions = {},
): Promise<ExportReport> {
  const from = path.resolve(modelDir);
  const to = path.resolve(outDir);
  const kind = outputKind(from, to, outDir, opts.force ?? false);
  // Checked before the lock creates the folder and before any work: a refused --out costs nothing.
  assertReplaceable(to, kind);
  const created = !existsSync(to);
  const lock = lockDir(to);
  let done = false;
  try {
    const report = await exportLocked(from, to, kind, opts);
    done = true;
    return report;
  } finally {
    lock.release();
    if (!done && created) rmEmptyDir(to);
  }
}

async function exportLocked(
  from: string,
  to: string,
  kind: DirKind,
  opts: ExportDirOptions,
): Promise<ExportReport> {
  const loaded = loadModelDir(from);
  const exported = exportModel(loaded, opts);
  // Never write a graph that can only predict NaN (weights are checked at load; this catches what the
  // export computed from them, e.g. folded or quantised values).
  checkOnnxModel(exported.bytes, path.join(to, exported.section.file), {
    remedy: `refusing to write it; the weights in ${from} give a non-finite value (train again)`,
  });
  // Load the graph once before writing anything: an opset onnxruntime lacks fails here, not when serving.
  try {
    await (await loadSession(exported.bytes)).release();
  } catch (e) {
    const opset = exported.section.opset;
    throw new UserError(
      `export: onnxruntime cannot load the graph at opset ${opset}: ${(e as Error).message}`,
    );
  }
  const manifest: DeployManifest = { ...loaded.manifest, onnx: exported.section };
  replaceDir(to, kind, (tmp) => {
    mkdirSync(tmp, { recursive: true });
    copyModelFiles(from, tmp);
    mkdirSync(path.dirname(path.join(tmp, exported.section.file)), { recursive: true });
    writeFileSync(path.join(tmp, exported.section.file), exported.bytes);
    if (opts.layout === 'hf') writeHfExportFiles(tmp, loaded);
    writeFileSync(path.join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  });
  const report: ExportReport = {
    outDir: to,
    section: exported.section,
    bytes: exported.bytes.length,
    quantized: exported.quantized,
  };
  if (!opts.int8) return report;

  let fp32Cached: Uint8Array | undefined;
  const fp32Bytes = () => (fp32Cached ??= exportModel(loaded, { ...opts, int8: false }).bytes);
  const dev = loaded.config.dataset.dev;
  const exporter = exporterFor(loaded.manifest.task);
  const examples = dev && existsSync(dev) ? await loaded.task.read(dev, { labelled: true }) : undefined;
  const check = examples && exporter.devCheck?.(examples);
  if (!dev || !examples) report.devSkipped = dev ? `dev file ${dev} does not exist` : 'no dev file';
  else if (!check) report.devSkipped = `no dev metric for task ${loaded.manifest.task} on ${dev}`;
  else {
    const { score, agree, metric } = check;
    const fp32 = await predictAll(await OnnxPredictor.open(to, { modelBytes: fp32Bytes() }), examples);
    const int8 = await predictAll(await OnnxPredictor.open(to), examples);
    const same = fp32.filter((p, i) => agree(p, int8[i])).length;
    report.dev = {
      file: dev,
      examples: examples.length,
      metric,
      fp32: score(fp32),
      int8: score(int8),
      agreement: same / Math.max(1, examples.length),
    };
  }
  if (opts.speedSeconds && report.quantized?.quantized.length === 0)
    report.speedSkipped = 'no weight matrix was quantised, so the int8 graph computes as the fp32 one does';
  else if (opts.speedSeconds) {
    try {
      report.speed = await compareSpeed(to, fp32Bytes(), opts.speedSeconds);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      report.speedSkipped = e.message;
    }
  }
  return report;
}

/**
 * The exported int8 graph against the fp32 graph of the same model at batch 1 and 32, one onnxruntime thread
 * (as `alembic serve` runs a model by default), full-length random inputs of the model's max_len.
 */
async function compareSpeed(dir: string, fp32: Uint8Array, seconds: number): Promise<SpeedComparison> {
  const target = describeTarget(dir);
  const int8 = graphSpecOf(target);
  const threads = 1;
  const timing = { warmupSeconds: Math.min(0.5, seconds / 4), seconds, minRuns: 12 };
  const pairs = await benchPair({ ...int8, bytes: fp32 }, int8, target, {
    batchSizes: [1, 32],
    threads,
    timing,
  });
  return {
    threads,
    seq: target.seq,
    rows: pairs.map((p) => ({ batch: p.batch, fp32: p.a.qps, int8: p.b.qps })),
  };
}

/**
 * What `--out` may replace: an earlier export; with --force any directory but the model's own or one that
 * contains it (`export --model run/best --out run` would delete the training run).
 */
function outputKind(from: string, to: string, outDir: string, force: boolean): DirKind {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : p);
  const model = real(from);
  const out = real(to);
  if (model === out || model.startsWith(out + path.sep)) {
    throw new UserError(`${outDir}: is or contains the model being exported (${from}); choose another --out`);
  }
  if (!force) return EXPORT_DIR;
  return { name: 'a directory without the model in it', is: () => true };
}

function rmEmptyDir(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // left as it is: nothing of the user's was in it
  }
}

/** Every regular file of the model directory but the torch weights and the manifest (rewritten). */
function copyModelFiles(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    if (name === WEIGHTS_FILE || name === EXTRA_WEIGHTS_FILE || name === MANIFEST_FILE) continue;
    const src = path.join(from, name);
    if (statSync(src).isFile()) copyFileSync(src, path.join(to, name));
  }
}

async function predictAll(predictor: OnnxPredictor, examples: unknown[]): Promise<unknown[]> {
  try {
    const out: unknown[] = [];
    for (let i = 0; i < examples.length; i += 64) {
      out.push(...(await predictor.predictExamples(examples.slice(i, i + 64))));
    }
    return out;
  } finally {
    await predictor.close();
  }
}
