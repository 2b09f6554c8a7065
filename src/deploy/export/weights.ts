/**
 * The model's weights as the graph builders read them: by state-dict name (the names src/nets/*.ts and
 * src/tasks/*.ts register, e.g. `encoder.embedding.weight`, `classifier.bias`), copied out of libtorch as
 * float32 once, and turned into graph initializers once — a siamese classifier runs its encoder twice on
 * the same weights, and the int8 pass stores a weight shared by two MatMuls once.
 */
import type { Tensor } from '../../engine/tensor.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';

export interface WeightArray {
  data: Float32Array;
  dims: number[];
}

export class StateReader {
  private readonly made = new Map<string, string>();

  constructor(
    private readonly state: ReadonlyMap<string, Tensor>,
    private readonly prefix = '',
  ) {}

  /** A reader for the names under `prefix.` (an encoder inside a task model). */
  child(prefix: string): StateReader {
    return new StateReader(this.state, `${this.prefix}${prefix}.`);
  }

  has(name: string): boolean {
    return this.state.has(this.prefix + name);
  }

  /** The values of one entry, row-major. Throws if the model has no such entry (an exporter bug). */
  read(name: string, expectDims?: readonly number[]): WeightArray {
    const full = this.prefix + name;
    const t = this.state.get(full);
    if (!t) throw new Error(`export: the model has no weight "${full}"`);
    const dims = [...t.shape];
    if (expectDims && (dims.length !== expectDims.length || dims.some((d, i) => d !== expectDims[i]))) {
      throw new Error(`export: weight ${full} is [${dims.join(', ')}], expected [${expectDims.join(', ')}]`);
    }
    return { data: t.toFloat32Array(), dims };
  }

  /** Memoised: the initializer made for `key` (a full state-dict name, or one with a suffix for a copy). */
  private once(key: string, make: () => string): string {
    let name = this.made.get(key);
    if (name === undefined) {
      name = make();
      this.made.set(key, name);
    }
    return name;
  }

  /** The entry as an initializer, unchanged. */
  tensor(g: OnnxGraphBuilder, name: string): string {
    const full = this.prefix + name;
    return this.once(full, () => {
      const w = this.read(name);
      return g.initializer(full, w.data, w.dims);
    });
  }

  /**
   * A torch Linear weight [out, in] as the [in, out] MatMul operand (which is also the form the int8 pass
   * quantises), stored under `<name>.T`.
   */
  linearWeight(g: OnnxGraphBuilder, name: string): string {
    const full = `${this.prefix}${name}.T`;
    return this.once(full, () => {
      const w = this.read(name);
      if (w.dims.length !== 2) throw new Error(`export: ${this.prefix}${name} is not a matrix`);
      return g.initializer(full, transpose(w.data, w.dims[0], w.dims[1]), [w.dims[1], w.dims[0]]);
    });
  }

  /** An initializer computed from entries (gate-reordered RNN weights, one embedding row, …). */
  derived(g: OnnxGraphBuilder, name: string, make: () => WeightArray): string {
    const full = this.prefix + name;
    return this.once(full, () => {
      const w = make();
      return g.initializer(full, w.data, w.dims);
    });
  }

  /** `x · Wᵀ + b` for the torch Linear `name` (`name.weight`, `name.bias`). */
  linear(g: OnnxGraphBuilder, x: string, name: string): string {
    const w = this.linearWeight(g, `${name}.weight`);
    const bias = this.has(`${name}.bias`) ? this.tensor(g, `${name}.bias`) : undefined;
    return g.matmulAdd(x, w, bias, { name });
  }
}

/** Row-major [rows, cols] → [cols, rows]. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = data[r * cols + c];
  return t;
}
