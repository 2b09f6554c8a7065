/**
 * Predictor over an exported directory (`alembic export`): tokenise with the training TextCodec, run the
 * ONNX graph in onnxruntime-node. Needs no libtorch, so a server or a benchmark can load it alone.
 */
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { readDeployManifest, type DeployManifest } from './export/manifest.js';
import { runtimeFor } from './export/runtimes.js';
import type { AnyRuntime } from './export/task-runtime.js';
import { loadSession, type OnnxSession } from './onnx/index.js';
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
    const session = await loadSession(opts.modelBytes ?? path.join(dir, manifest.onnx.file), {
      intraOpThreads: opts.threads ?? 1,
    });
    return new OnnxPredictor(dir, manifest, session, runtime);
  }

  async predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]> {
    const predictions = await this.predictExamples(inputs.map((x) => this.runtime.fromInput(x)));
    return predictions.map((p) => this.runtime.toOutput(p));
  }

  /**
   * The task's own predictions for examples as its reader returns them (what `alembic predict` formats);
   * for classification these are the PredictOutput objects predictBatch returns.
   */
  async predictExamples(examples: unknown[]): Promise<unknown[]> {
    if (examples.length === 0) return [];
    return this.runtime.predict(examples, (feeds, outputs) => this.session.run(feeds, outputs));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
