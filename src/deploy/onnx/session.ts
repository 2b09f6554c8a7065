/**
 * A thin wrapper over onnxruntime-node: load a model from a file or bytes, feed typed arrays with dims, get
 * typed arrays with dims back. It hides onnxruntime's Tensor class so callers (serving, evaluation, tests)
 * deal only in plain data, and fixes the session settings alembic serves with.
 */
import { existsSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { UserError } from '../../util/errors.js';
import type { ElemType, TensorData } from './tensor-types.js';
import { elemTypeOfArray } from './tensor-types.js';

export interface SessionOptions {
  /**
   * Threads one operator may use. Default 1: a server answers many small requests at once, and one thread per
   * request across workers beats several threads fighting over each tiny matmul.
   */
  intraOpThreads?: number;
  /** Graph optimisation level (default 'all', which includes the fusions int8 and GELU rely on). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** A feed or a result: data in row-major order with its shape. */
export interface TensorValue {
  data: TensorData;
  dims: readonly number[];
  /** Needed only to feed a Uint8Array as bool; otherwise read from the typed array. */
  type?: ElemType;
}

export interface RunOutput {
  data: TensorData;
  dims: number[];
  type: ElemType;
}

const ORT_TYPES: Record<string, ElemType> = {
  float32: 'float32',
  int64: 'int64',
  int32: 'int32',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

export class OnnxSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(model: string | Uint8Array, opts: SessionOptions = {}): Promise<OnnxSession> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: opts.optimization ?? 'all',
      logSeverityLevel: 3, // errors only: onnxruntime's warnings about unused initializers are noise here
      // Exact int8 matmuls on x86 CPUs without VNNI, where the fast U8S8 kernel saturates on full-range int8
      // weights (see quantize.ts). Ignored elsewhere; costs nothing on float models and 7-bit weights.
      extra: { session: { x64quantprecision: '1' } },
    };
    if (typeof model === 'string') {
      if (!existsSync(model)) throw new UserError(`${model}: no such model file`);
      try {
        return new OnnxSession(await ort.InferenceSession.create(model, options));
      } catch (err) {
        throw new UserError(`${model}: onnxruntime cannot load this model: ${(err as Error).message}`);
      }
    }
    return new OnnxSession(await ort.InferenceSession.create(model, options));
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs the model; returns every output, or only those named. */
  async run(
    feeds: Record<string, TensorValue>,
    outputNames?: readonly string[],
  ): Promise<Record<string, RunOutput>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, v] of Object.entries(feeds)) {
      const type = v.type ?? elemTypeOfArray(v.data);
      ortFeeds[name] = new ort.Tensor(type, v.data, v.dims);
    }
    const results = outputNames
      ? await this.session.run(ortFeeds, outputNames as string[])
      : await this.session.run(ortFeeds);
    const out: Record<string, RunOutput> = {};
    for (const [name, value] of Object.entries(results)) {
      const t = value as ort.Tensor;
      const type = ORT_TYPES[t.type];
      if (type === undefined)
        throw new Error(`output ${name}: onnxruntime type ${t.type} is not one alembic handles`);
      out[name] = { data: t.data as TensorData, dims: [...t.dims], type };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Loads a model file (or bytes) into a session. */
export function loadSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<OnnxSession> {
  return OnnxSession.create(model, opts);
}
