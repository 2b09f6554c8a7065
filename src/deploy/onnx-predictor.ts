/**
 * Predictor over an exported directory (`alembic export`): tokenise with the training TextCodec, run the
 * ONNX graph in onnxruntime-node. Needs no libtorch, so a server or a benchmark can load it alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Vocab } from '../data/vocab.js';
import { UserError } from '../util/errors.js';
import { firstNaN } from '../util/finite.js';
import { INPUT_IDS, INPUT_IDS_B } from './export/io.js';
import { readDeployManifest, type DeployManifest } from './export/manifest.js';
import { runtimeFor } from './export/runtimes.js';
import type { AnyRuntime } from './export/task-runtime.js';
import { checkOnnxModel } from './onnx/check-model.js';
import { loadSession, type OnnxSession, type RunOutput } from './onnx/index.js';
import type { PredictInput, PredictOutput, Predictor } from './predictor.js';

export interface OnnxPredictorOptions {
  /** onnxruntime intra-op threads (default 1: a server runs many small requests side by side). */
  threads?: number;
  /** Run these model bytes instead of the directory's model file (export compares fp32 with int8 this way). */
  modelBytes?: Uint8Array;
}

export class OnnxPredictor implements Predictor {
  readonly task: string;
  readonly labels: readonly string[];

  private constructor(
    readonly dir: string,
    readonly manifest: DeployManifest,
    private readonly session: OnnxSession,
    private readonly runtime: AnyRuntime,
  ) {
    this.task = runtime.task;
    this.labels = runtime.labels;
  }

  static async open(dir: string, opts: OnnxPredictorOptions = {}): Promise<OnnxPredictor> {
    const manifest = readDeployManifest(dir);
    if (!manifest.onnx) {
      throw new UserError(`${dir}: not an exported model (no onnx section); run alembic export first`);
    }
    const runtime = await runtimeFor(manifest, dir);
    const file = path.join(dir, manifest.onnx.file);
    if (!opts.modelBytes && !existsSync(file)) throw new UserError(`${file}: no such model file`);
    const bytes = opts.modelBytes ?? readFileSync(file);
    checkOnnxModel(bytes, file, { vocab: vocabOf(dir), idInputs: [INPUT_IDS, INPUT_IDS_B] });
    const session = await loadSession(opts.modelBytes ?? file, { intraOpThreads: opts.threads ?? 1 });
    return new OnnxPredictor(dir, manifest, session, runtime);
  }

  /** Unchecked for NaN: the service checks each request's outputs, so one bad input fails only its request. */
  async predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]> {
    const predictions = await this.run(inputs.map((x) => this.runtime.fromInput(x)));
    return predictions.map((p) => this.runtime.toOutput(p));
  }

  /**
   * The task's own predictions for examples as its reader returns them (what `alembic predict` formats);
   * for classification these are the PredictOutput objects predictBatch returns. A graph output holding NaN
   * fails the call: a prediction is never made from one.
   */
  async predictExamples(examples: unknown[]): Promise<unknown[]> {
    return this.run(examples, (out) => {
      for (const [name, v] of Object.entries(out)) {
        const i = v.type === 'float32' ? firstNaN(v.data as Float32Array) : -1;
        if (i >= 0) throw nanOutputError(this.dir, name, i, v.dims);
      }
    });
  }

  private async run(
    examples: unknown[],
    check?: (outputs: Record<string, RunOutput>) => void,
  ): Promise<unknown[]> {
    if (examples.length === 0) return [];
    return this.runtime.predict(examples, async (feeds, outputs) => {
      const out = await this.session.run(feeds, outputs);
      check?.(out);
      return out;
    });
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** The directory's vocabulary size, to check against the graph's embedding (none: nothing to check). */
function vocabOf(dir: string): { size: number; file: string } | undefined {
  const file = path.join(dir, 'vocab.txt');
  return existsSync(file) ? { size: Vocab.load(file).size, file } : undefined;
}

/** A prediction that would carry NaN to the user; the command (or request) fails instead. */
function nanOutputError(
  dir: string,
  output: string,
  index: number,
  dims: readonly number[],
): UserError {
  return new UserError(
    `${dir}: the model computed NaN (graph output "${output}", element ${index} of [${dims.join(', ')}]) ` +
      `for this input: its weights or the input's numeric values are out of range; no prediction made`,
  );
}
