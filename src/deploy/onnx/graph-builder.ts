/**
 * A small typed builder for ONNX inference graphs, written so per-network exporters (BOW, CNN, GRU, LSTM,
 * Transformer, CRF, span heads) can describe a model in a few lines and get bytes onnxruntime loads.
 *
 * Values are named by strings. Every node's inputs must already exist when the node is added (graph input,
 * initializer, or an earlier node's output), so the node list is topologically ordered by construction and a
 * misspelt value name fails at the line that used it rather than at load time in onnxruntime.
 *
 * Names the caller spells out (inputs, initializers, explicit node outputs, output aliases) are used exactly
 * and must be unique. Names the builder makes up (node outputs, helper weights, constants) get the current
 * `scope()` prefix and a numeric suffix when needed, so exporters can build layer after layer without
 * inventing names.
 *
 * The graph stays editable until `toModel()`: rewriting passes (see quantize.ts) walk `nodes`, read
 * `getInitializer()`, and swap a node for others with `replaceNode()`.
 */
import {
  attributeProto,
  tagAttr,
  tensorProto,
  float,
  int,
  type Attrs,
  type TaggedAttr,
} from './attributes.js';
import { encodeModel } from './schema.js';
import { onnxDataType, shapeSize, type Dim, type ElemType, type TensorData } from './tensor-types.js';

export interface OnnxNode {
  readonly opType: string;
  /** Operator-set domain: '' for standard ONNX, 'com.microsoft' for onnxruntime's contrib ops. */
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, TaggedAttr>>;
}

export interface OnnxInitializer {
  readonly name: string;
  readonly data: TensorData;
  readonly dims: readonly number[];
  /** A Uint8Array that holds booleans rather than uint8 numbers. */
  readonly bool: boolean;
}

export interface ValueInfo {
  readonly name: string;
  readonly type: ElemType;
  readonly dims: readonly Dim[];
}

export interface BuilderOptions {
  /** The standard ONNX opset version (default 17, the first with LayerNormalization). */
  opset?: number;
  /**
   * Whether exporters may use onnxruntime's fused com.microsoft kernels where a standard-op subgraph does the
   * same (default false: standard ONNX only). onnxruntime-node and onnxruntime-web both run them.
   */
  fusedKernels?: boolean;
}

export interface NodeOptions {
  domain?: string;
  /** Base for the node's name (default: its op type). */
  name?: string;
}

export interface ModelOptions {
  producer?: string;
  producerVersion?: string;
  docString?: string;
  /** Free-form key/value pairs stored in the model (label maps, tokeniser settings, alembic version). */
  metadata?: Record<string, string>;
  modelVersion?: number;
}

/**
 * A weight for `matmulAdd`: the name of an existing [in, out] value, or data with its layout. 'out,in' is the
 * torch nn.Linear layout; it is transposed here in JS so the graph holds a plain [in, out] MatMul weight, which
 * is both what MatMul wants and what the int8 quantiser recognises.
 */
export type WeightInput =
  string | { data: Float32Array; dims: readonly [number, number]; layout: 'in,out' | 'out,in' };

/** A per-feature vector (bias, LayerNorm gamma/beta): an existing value's name, or its data. */
export type VectorInput = string | Float32Array;

/** Opset versions that bring a domain's ops; contrib ops have been at version 1 throughout. */
const DOMAIN_VERSIONS: Record<string, number> = { 'com.microsoft': 1 };

/** The newest IR version each opset range shipped with; onnxruntime refuses IR versions newer than it knows. */
function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

export class OnnxGraphBuilder {
  readonly opset: number;
  readonly fusedKernels: boolean;
  private readonly inputList: ValueInfo[] = [];
  private readonly outputList: ValueInfo[] = [];
  private readonly inits = new Map<string, OnnxInitializer>();
  private readonly nodeList: OnnxNode[] = [];
  /** Values that exist so far: graph inputs, initializers and node outputs. */
  private readonly defined = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly domainsUsed = new Set<string>();
  private readonly scopes: string[] = [];
  private readonly scalarCache = new Map<string, string>();
  private readonly metadataProps = new Map<string, string>();
  /** Values published under another name by `output()`: later references to the old name follow it. */
  private readonly renamed = new Map<string, string>();

  constructor(
    readonly name: string,
    opts: BuilderOptions = {},
  ) {
    this.opset = opts.opset ?? 17;
    this.fusedKernels = opts.fusedKernels ?? false;
    if (!Number.isInteger(this.opset) || this.opset < 13) {
      throw new Error(`opset ${this.opset}: alembic writes opset 13 or newer`);
    }
  }

  // ---- names ----------------------------------------------------------------------------------------------

  /** Runs `fn` with `prefix` added to every name the builder makes up inside it (scopes nest with '/'). */
  scope<T>(prefix: string, fn: () => T): T {
    this.scopes.push(prefix);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /** A value name not yet used: the scoped base, or the scoped base with the smallest free `_N` suffix. */
  uniqueName(base: string): string {
    return this.freeName(this.scoped(base), this.defined);
  }

  private scoped(base: string): string {
    return this.scopes.length === 0 ? base : `${this.scopes.join('/')}/${base}`;
  }

  private freeName(candidate: string, taken: Set<string>): string {
    if (!taken.has(candidate)) return candidate;
    for (let n = 1; ; n++) if (!taken.has(`${candidate}_${n}`)) return `${candidate}_${n}`;
  }

  private claim(name: string, what: string): void {
    if (name === '') throw new Error(`${what}: a value name must not be empty`);
    if (this.defined.has(name))
      throw new Error(`${what}: the name "${name}" is already used in graph ${this.name}`);
    this.defined.add(name);
  }

  /** Whether a value of this name exists (input, initializer or node output). */
  has(name: string): boolean {
    return this.defined.has(name);
  }

  /**
   * Records a key/value pair for the model's metadata_props (a pass like quantisation notes what it did;
   * `toModel({ metadata })` entries of the same key win).
   */
  setMetadata(key: string, value: string): void {
    this.metadataProps.set(key, value);
  }

  get metadata(): ReadonlyMap<string, string> {
    return this.metadataProps;
  }

  // ---- inputs, weights, outputs ---------------------------------------------------------------------------

  /** Declares a graph input; a string dim is a size fixed only at run time ('batch', 'seq'). */
  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.claim(name, 'input');
    this.inputList.push({ name, type, dims: [...dims] });
    return name;
  }

  /** Adds a constant tensor under an exact name. The data is kept by reference, not copied. */
  initializer(
    name: string,
    data: TensorData,
    dims: readonly number[],
    opts: { bool?: boolean } = {},
  ): string {
    if (!dims.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`initializer ${name}: dims [${dims.join(', ')}] must be non-negative integers`);
    }
    if (shapeSize(dims) !== data.length) {
      throw new Error(
        `initializer ${name}: dims [${dims.join(', ')}] hold ${shapeSize(dims)} elements, data has ${data.length}`,
      );
    }
    this.claim(name, 'initializer');
    this.inits.set(name, { name, data, dims: [...dims], bool: opts.bool ?? false });
    return name;
  }

  /** Adds a constant tensor under a made-up name (a scalar when `dims` is [] or omitted for one element). */
  constant(data: TensorData, dims?: readonly number[], baseName = 'const'): string {
    return this.initializer(
      this.uniqueName(baseName),
      data,
      dims ?? (data.length === 1 ? [] : [data.length]),
    );
  }

  /** A float32 scalar constant; equal values share one initializer. */
  scalar(value: number): string {
    const key = `f32:${Object.is(value, -0) ? '-0' : value}`;
    let name = this.scalarCache.get(key);
    if (name === undefined) {
      name = this.constant(new Float32Array([value]), [], 'scalar');
      this.scalarCache.set(key, name);
    }
    return name;
  }

  /** A 0-d int64 constant, made once per value (an axis input, a kernel width compared with lengths). */
  scalarInt(value: number): string {
    const key = `i64:${value}`;
    let name = this.scalarCache.get(key);
    if (name === undefined) {
      name = this.constant(new BigInt64Array([BigInt(value)]), [], 'scalar_int');
      this.scalarCache.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant, the form Reshape shapes, Unsqueeze/ReduceSum axes and Slice bounds take. */
  int64s(values: readonly number[], baseName = 'ints'): string {
    return this.constant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      [values.length],
      baseName,
    );
  }

  /**
   * Declares `value` a graph output of the given type and shape. With `as`, the output is published under that
   * name (so the internal name can stay made-up while the public one is stable): the node that makes `value`
   * is renamed in place, since every node costs a kernel launch per run (~2 µs on a small net at batch 1),
   * and only a graph input, an initializer or a value already published goes through an Identity node.
   */
  output(value: string, type: ElemType, dims: readonly Dim[], opts: { as?: string } = {}): string {
    const source = this.resolve(value);
    this.requireDefined(source, 'output');
    let name = source;
    if (opts.as !== undefined && opts.as !== source) {
      const as = opts.as;
      const produced = this.nodeList.some((n) => n.outputs.includes(source));
      if (produced && !this.outputList.some((o) => o.name === source)) {
        this.claim(as, 'output'); // `source` stays claimed: a later value must not take the old name
        const rename = (names: readonly string[]) => names.map((v) => (v === source ? as : v));
        this.nodeList.forEach(
          (n, k) => (this.nodeList[k] = { ...n, inputs: rename(n.inputs), outputs: rename(n.outputs) }),
        );
        this.renamed.set(source, as);
        for (const [from, to] of this.renamed) if (to === source) this.renamed.set(from, as);
        name = as;
      } else [name] = this.node('Identity', [source], [as]);
    }
    if (this.outputList.some((o) => o.name === name)) throw new Error(`output ${name} is declared twice`);
    this.outputList.push({ name, type, dims: [...dims] });
    return name;
  }

  /** The current name of a value (its public name once `output()` published it under another). */
  private resolve(value: string): string {
    return this.renamed.get(value) ?? value;
  }

  // ---- nodes ----------------------------------------------------------------------------------------------

  private requireDefined(value: string, what: string): void {
    if (!this.defined.has(value))
      throw new Error(`${what}: no value named "${value}" exists yet in graph ${this.name}`);
  }

  /**
   * Adds a node and returns its output names. `outputs` is either the exact names or how many outputs to make
   * up (default 1). An input of '' stands for an omitted optional input, as in ONNX.
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[] | number = 1,
    attrs: Attrs = {},
    opts: NodeOptions = {},
  ): string[] {
    const what = `${opType} node`;
    inputs = inputs.map((i) => this.resolve(i));
    for (const i of inputs) if (i !== '') this.requireDefined(i, what);
    const tagged: Record<string, TaggedAttr> = {};
    for (const [k, v] of Object.entries(attrs)) tagged[k] = tagAttr(k, v);
    const base = opts.name ?? opType;
    let outs: string[];
    if (typeof outputs === 'number') {
      outs = [];
      for (let k = 0; k < outputs; k++) {
        const o = this.uniqueName(outputs === 1 ? base : `${base}.${k}`);
        this.claim(o, what);
        outs.push(o);
      }
    } else {
      outs = [...outputs];
      for (const o of outs) this.claim(o, what);
    }
    const domain = opts.domain ?? '';
    if (domain !== '') this.domainsUsed.add(domain);
    const name = this.freeName(this.scoped(base), this.nodeNames);
    this.nodeNames.add(name);
    this.nodeList.push({ opType, domain, name, inputs: [...inputs], outputs: outs, attrs: tagged });
    return outs;
  }

  /** `node()` for the common single-output case: returns the one output name. */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}, opts: NodeOptions = {}): string {
    return this.node(opType, inputs, 1, attrs, opts)[0];
  }

  // ---- helpers for patterns exporters share ---------------------------------------------------------------

  private weightName(w: WeightInput, base: string): string {
    if (typeof w === 'string') return w;
    const [rows, cols] = w.dims;
    if (rows * cols !== w.data.length) {
      throw new Error(
        `weight ${base}: dims [${rows}, ${cols}] hold ${rows * cols} elements, data has ${w.data.length}`,
      );
    }
    if (w.layout === 'in,out') return this.initializer(this.uniqueName(base), w.data, [rows, cols]);
    const t = new Float32Array(w.data.length); // [out, in] -> [in, out]
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w.data[r * cols + c];
    return this.initializer(this.uniqueName(base), t, [cols, rows]);
  }

  private vectorName(v: VectorInput, base: string): string {
    return typeof v === 'string' ? v : this.initializer(this.uniqueName(base), v, [v.length]);
  }

  /** x @ W (+ b): a dense layer over the last axis of x, any leading axes (batch, seq) kept. */
  matmulAdd(x: string, w: WeightInput, b?: VectorInput, opts: { name?: string } = {}): string {
    const base = opts.name ?? 'linear';
    const y = this.op('MatMul', [x, this.weightName(w, `${base}.weight`)], {}, { name: `${base}.MatMul` });
    if (b === undefined) return y;
    return this.op('Add', [y, this.vectorName(b, `${base}.bias`)], {}, { name: `${base}.Add` });
  }

  /** Rows of `table` picked by int64 `ids` (an embedding lookup): output shape ids.shape + table.shape[1:]. */
  gather(
    table: string | { data: Float32Array; dims: readonly number[] },
    ids: string,
    opts: { axis?: number; name?: string } = {},
  ): string {
    const base = opts.name ?? 'embedding';
    const t =
      typeof table === 'string'
        ? table
        : this.initializer(this.uniqueName(`${base}.weight`), table.data, table.dims);
    return this.op('Gather', [t, ids], { axis: int(opts.axis ?? 0) }, { name: `${base}.Gather` });
  }

  /** LayerNormalization (opset 17) over the last axis by default; epsilon 1e-5 as torch's default. */
  layerNorm(
    x: string,
    gamma: VectorInput,
    beta: VectorInput,
    opts: { epsilon?: number; axis?: number; name?: string } = {},
  ) {
    if (this.opset < 17)
      throw new Error(`LayerNormalization needs opset 17 or newer; graph ${this.name} is at ${this.opset}`);
    const base = opts.name ?? 'layer_norm';
    const inputs = [x, this.vectorName(gamma, `${base}.weight`), this.vectorName(beta, `${base}.bias`)];
    const attrs = { axis: int(opts.axis ?? -1), epsilon: float(opts.epsilon ?? 1e-5) };
    return this.op('LayerNormalization', inputs, attrs, { name: base });
  }

  /** Softmax along one axis (opset 13 semantics: just that axis, not the flattened tail). */
  softmax(x: string, axis = -1): string {
    return this.op('Softmax', [x], { axis: int(axis) });
  }

  /**
   * GELU, exact erf form: 0.5·x·(1 + erf(x/√2)). Opset 20 has a Gelu op; before it, the decomposition below is
   * the pattern onnxruntime's GeluFusion recognises and fuses back into one kernel.
   */
  gelu(x: string): string {
    if (this.opset >= 20) return this.op('Gelu', [x]);
    return this.scope('gelu', () => {
      const erf = this.op('Erf', [this.op('Div', [x, this.scalar(Math.SQRT2)])]);
      const onePlus = this.op('Add', [erf, this.scalar(1)]);
      return this.op('Mul', [this.op('Mul', [x, onePlus]), this.scalar(0.5)]);
    });
  }

  // ---- graph access for rewriting passes ------------------------------------------------------------------

  get nodes(): readonly OnnxNode[] {
    return this.nodeList;
  }

  get inputs(): readonly ValueInfo[] {
    return this.inputList;
  }

  get outputs(): readonly ValueInfo[] {
    return this.outputList;
  }

  get initializers(): readonly OnnxInitializer[] {
    return [...this.inits.values()];
  }

  getInitializer(name: string): OnnxInitializer | undefined {
    return this.inits.get(name);
  }

  /** Nodes that read `value`. */
  consumers(value: string): OnnxNode[] {
    return this.nodeList.filter((n) => n.inputs.includes(value));
  }

  /** Drops an initializer nothing reads any more (a rewriting pass's leftover weight). */
  removeInitializer(name: string): void {
    if (!this.inits.has(name)) throw new Error(`no initializer named ${name}`);
    if (this.consumers(name).length > 0 || this.outputList.some((o) => o.name === name)) {
      throw new Error(`initializer ${name} is still used`);
    }
    this.inits.delete(name);
    this.defined.delete(name);
  }

  /** Drops a node whose outputs nothing reads (left over after a rewrite folded it into another node). */
  removeNode(node: OnnxNode): void {
    const at = this.nodeList.indexOf(node);
    if (at < 0) throw new Error(`removeNode: ${node.name} is not a node of graph ${this.name}`);
    for (const o of node.outputs) {
      if (this.consumers(o).length > 0 || this.outputList.some((v) => v.name === o)) {
        throw new Error(`removeNode: ${node.name}'s output ${o} is still used`);
      }
    }
    this.nodeList.splice(at, 1);
    this.nodeNames.delete(node.name);
    for (const o of node.outputs) this.defined.delete(o);
  }

  /**
   * Replaces `node` by the nodes `build` adds, in the same place in the order. `build` uses the ordinary
   * builder methods; it must redefine every output of the old node (downstream nodes still read them) and may
   * read only values that existed before the old node.
   */
  replaceNode(node: OnnxNode, build: () => void): void {
    const at = this.nodeList.indexOf(node);
    if (at < 0) throw new Error(`replaceNode: ${node.name} is not a node of graph ${this.name}`);
    const later = new Set(this.nodeList.slice(at + 1).flatMap((n) => n.outputs));
    const initsBefore = new Set(this.inits.keys());
    this.nodeList.splice(at, 1);
    this.nodeNames.delete(node.name);
    for (const o of node.outputs) this.defined.delete(o);
    const before = this.nodeList.length;
    let added: OnnxNode[] = [];
    try {
      build();
      added = this.nodeList.splice(before);
      for (const o of node.outputs) {
        if (!added.some((n) => n.outputs.includes(o)))
          throw new Error(`replaceNode: ${node.name}'s output ${o} was not redefined`);
      }
      for (const n of added) {
        const late = n.inputs.find((i) => later.has(i));
        if (late !== undefined)
          throw new Error(`replaceNode: ${n.name} reads ${late}, which is computed after ${node.name}`);
      }
    } catch (err) {
      // Leave the graph as it was, so a caller that catches the error still holds a consistent graph.
      added.push(...this.nodeList.splice(before));
      for (const n of added) {
        this.nodeNames.delete(n.name);
        for (const o of n.outputs) this.defined.delete(o);
      }
      for (const name of [...this.inits.keys()]) {
        if (!initsBefore.has(name)) {
          this.inits.delete(name);
          this.defined.delete(name);
        }
      }
      this.nodeList.splice(at, 0, node);
      this.nodeNames.add(node.name);
      for (const o of node.outputs) this.defined.add(o);
      throw err;
    }
    this.nodeList.splice(at, 0, ...added);
  }

  // ---- serialisation --------------------------------------------------------------------------------------

  /** The ModelProto as a plain object (what `toModel` encodes). */
  toModelProto(opts: ModelOptions = {}): Record<string, unknown> {
    if (this.outputList.length === 0) throw new Error(`graph ${this.name} has no outputs`);
    const valueInfo = (v: ValueInfo) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: onnxDataType(v.type),
          shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const opsetImport = [{ domain: '', version: this.opset }];
    for (const d of [...this.domainsUsed].sort())
      opsetImport.push({ domain: d, version: DOMAIN_VERSIONS[d] ?? 1 });
    const graph = {
      name: this.name,
      node: this.nodeList.map((n) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name,
        opType: n.opType,
        ...(n.domain !== '' ? { domain: n.domain } : {}),
        attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v)),
      })),
      initializer: [...this.inits.values()].map((t) => tensorProto(t.name, t.data, t.dims, t.bool)),
      input: this.inputList.map(valueInfo),
      output: this.outputList.map(valueInfo),
    };
    return {
      irVersion: irVersionFor(this.opset),
      opsetImport,
      producerName: opts.producer ?? 'alembic',
      ...(opts.producerVersion !== undefined ? { producerVersion: opts.producerVersion } : {}),
      ...(opts.docString !== undefined ? { docString: opts.docString } : {}),
      ...(opts.modelVersion !== undefined ? { modelVersion: opts.modelVersion } : {}),
      graph,
      metadataProps: Object.entries({ ...Object.fromEntries(this.metadataProps), ...opts.metadata }).map(
        ([key, value]) => ({ key, value }),
      ),
    };
  }

  /** The serialised model, ready for `writeOnnx` or `InferenceSession.create(bytes)`. */
  toModel(opts: ModelOptions = {}): Uint8Array {
    return encodeModel(this.toModelProto(opts));
  }
}
