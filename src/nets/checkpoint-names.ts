/**
 * Mapping parameter names of real BERT/ERNIE checkpoints onto alembic's Transformer encoder, which names
 * its parameters exactly like Hugging Face `BertModel` without a prefix (`embeddings.word_embeddings.weight`,
 * `encoder.layer.3.attention.self.query.weight`, `pooler.dense.bias`, ...), Linear weights as
 * [out_features, in_features].
 *
 * Understood sources: Hugging Face BERT (`bert.` prefix or none), old TF-port names (`LayerNorm.gamma/beta`),
 * Hugging Face ERNIE (`ernie.` prefix, plus `embeddings.task_type_embeddings`), and PaddleNLP ERNIE
 * (`encoder.layers.{i}.self_attn.q_proj`, `linear1`, `norm1`, ...), whose Linear weights are stored
 * [in, out] and so must be transposed. Pre-training and task heads (`cls.*`, `classifier.*`, ...) are ignored.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { InputError, UserError } from '../util/errors.js';

/** Which library's naming and weight layout a checkpoint uses. */
export type CheckpointFormat = 'hf' | 'paddle';

export interface NameMapping {
  /** alembic parameter name. */
  target: string;
  /** The stored tensor is [in, out] and must be transposed to [out, in]. */
  transpose: boolean;
}

/** Model prefixes that wrap the encoder in task models (`BertForMaskedLM.bert`, `ErnieForX.ernie`). */
const MODEL_PREFIX = /^(?:bert|ernie)\./;

/** Heads and buffers that belong to pre-training/task models, not to the encoder. */
const KNOWN_IGNORED = [
  /^cls\./,
  /^classifier\./,
  /^qa_outputs\./,
  /^lm_head\./,
  /^predictions\./,
  /^seq_relationship\./,
  /^embeddings\.position_ids$/,
];

const EMBEDDING =
  /^embeddings\.(word_embeddings|position_embeddings|token_type_embeddings|task_type_embeddings)\.weight$/;

/** Hugging Face names: already alembic's names once the prefix is stripped. */
const HF_NAMES = [
  /^embeddings\.LayerNorm\.(?:weight|bias)$/,
  /^encoder\.layer\.\d+\.attention\.self\.(?:query|key|value)\.(?:weight|bias)$/,
  /^encoder\.layer\.\d+\.attention\.output\.(?:dense|LayerNorm)\.(?:weight|bias)$/,
  /^encoder\.layer\.\d+\.intermediate\.dense\.(?:weight|bias)$/,
  /^encoder\.layer\.\d+\.output\.(?:dense|LayerNorm)\.(?:weight|bias)$/,
];

const POOLER = /^pooler\.dense\.(?:weight|bias)$/;

/** PaddleNLP `nn.TransformerEncoderLayer` (post-norm) sub-modules → Hugging Face sub-modules. */
const PADDLE_LAYER_PARTS: Record<string, string> = {
  'self_attn.q_proj': 'attention.self.query',
  'self_attn.k_proj': 'attention.self.key',
  'self_attn.v_proj': 'attention.self.value',
  'self_attn.out_proj': 'attention.output.dense',
  // norm1 follows the attention residual, norm2 the feed-forward residual (normalize_before=False).
  norm1: 'attention.output.LayerNorm',
  norm2: 'output.LayerNorm',
  linear1: 'intermediate.dense',
  linear2: 'output.dense',
};

const PADDLE_LAYER =
  /^encoder\.layers\.(\d+)\.(self_attn\.(?:q|k|v|out)_proj|norm1|norm2|linear1|linear2)\.(weight|bias)$/;
const PADDLE_EMBEDDING_NORM = /^embeddings\.layer_norm\.(weight|bias)$/;

/** Strips the model prefix and renames TF-port `LayerNorm.gamma/beta` to `weight/bias`. */
function normaliseName(name: string): string {
  return name
    .replace(MODEL_PREFIX, '')
    .replace(/\.LayerNorm\.gamma$/, '.LayerNorm.weight')
    .replace(/\.LayerNorm\.beta$/, '.LayerNorm.bias');
}

/** The format a single (normalised) name reveals on its own, if any. */
function formatOfName(normalised: string): CheckpointFormat | undefined {
  if (PADDLE_LAYER.test(normalised) || PADDLE_EMBEDDING_NORM.test(normalised)) return 'paddle';
  if (HF_NAMES.some((re) => re.test(normalised))) return 'hf';
  return undefined;
}

/** A 2-D Linear weight in alembic naming (embeddings and LayerNorm weights are not Linear). */
function isLinearWeight(target: string): boolean {
  return /\.(?:query|key|value|dense)\.weight$/.test(target);
}

/** alembic name for a normalised name, or undefined if it is not an encoder parameter. */
function targetOf(normalised: string): string | undefined {
  if (EMBEDDING.test(normalised) || POOLER.test(normalised)) return normalised;
  if (HF_NAMES.some((re) => re.test(normalised))) return normalised;
  const norm = PADDLE_EMBEDDING_NORM.exec(normalised);
  if (norm) return `embeddings.LayerNorm.${norm[1]}`;
  const layer = PADDLE_LAYER.exec(normalised);
  if (layer) return `encoder.layer.${layer[1]}.${PADDLE_LAYER_PARTS[layer[2]]}.${layer[3]}`;
  return undefined;
}

/**
 * Maps one checkpoint name to alembic's name, or null when it is not part of the encoder (heads, buffers,
 * anything unknown). `format` matters only for names both libraries share — `pooler.dense.weight` is
 * [out, in] in Hugging Face and [in, out] in Paddle — and defaults to what the name itself shows, else 'hf'.
 * Use mapCheckpoint to detect the format from all names of a checkpoint.
 */
export function mapCheckpointName(name: string, format?: CheckpointFormat): NameMapping | null {
  const normalised = normaliseName(name);
  const target = targetOf(normalised);
  if (target === undefined) return null;
  const effective = formatOfName(normalised) ?? format ?? 'hf';
  return { target, transpose: effective === 'paddle' && isLinearWeight(target) };
}

/** True for names of known heads/buffers that are ignored on purpose (as opposed to unknown names). */
export function isKnownIgnoredName(name: string): boolean {
  const normalised = name.replace(MODEL_PREFIX, '');
  return KNOWN_IGNORED.some((re) => re.test(name) || re.test(normalised));
}

/**
 * The format of a whole checkpoint from its names: 'paddle' if any name is Paddle-style, 'hf' otherwise.
 * A checkpoint mixing both styles is refused, since shared names would then be ambiguous.
 */
export function detectCheckpointFormat(names: readonly string[], source = 'checkpoint'): CheckpointFormat {
  let hf: string | undefined;
  let paddle: string | undefined;
  for (const name of names) {
    const f = formatOfName(normaliseName(name));
    if (f === 'hf') hf ??= name;
    if (f === 'paddle') paddle ??= name;
  }
  if (hf !== undefined && paddle !== undefined) {
    throw new UserError(
      `${source}: mixes Hugging Face ("${hf}") and PaddleNLP ("${paddle}") parameter names; cannot tell the weight layout`,
    );
  }
  return paddle !== undefined ? 'paddle' : 'hf';
}

export interface CheckpointMapping {
  format: CheckpointFormat;
  /** Checkpoint name → alembic name and whether to transpose. */
  mapping: Map<string, NameMapping>;
  /** Every name that maps to nothing (heads, buffers and unknown names), in input order. */
  ignored: string[];
  /** The part of `ignored` that is not a known head or buffer: worth a warning, or an error. */
  unrecognized: string[];
}

/**
 * Maps all names of a checkpoint. Two names landing on the same alembic parameter (say `bert.x` and `x`)
 * are refused rather than letting one silently win. `source` (a file name) prefixes error messages.
 */
export function mapCheckpoint(names: readonly string[], source = 'checkpoint'): CheckpointMapping {
  const format = detectCheckpointFormat(names, source);
  const mapping = new Map<string, NameMapping>();
  const claimedBy = new Map<string, string>();
  const ignored: string[] = [];
  const unrecognized: string[] = [];
  for (const name of names) {
    const m = mapCheckpointName(name, format);
    if (m === null) {
      ignored.push(name);
      if (!isKnownIgnoredName(name)) unrecognized.push(name);
      continue;
    }
    const other = claimedBy.get(m.target);
    if (other !== undefined && other !== name) {
      throw new UserError(`${source}: parameters "${other}" and "${name}" both map to "${m.target}"`);
    }
    claimedBy.set(m.target, name);
    mapping.set(name, m);
  }
  return { format, mapping, ignored, unrecognized };
}

// ---------------------------------------------------------------------------------------------
// config.json

/** Activation names normalised: 'gelu' is the exact erf form, 'gelu_tanh' the tanh approximation. */
export type BertActivation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

const ACTIVATIONS: Record<string, BertActivation> = {
  gelu: 'gelu',
  gelu_python: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  /** 0 means no token-type embedding (allowed by PaddleNLP). */
  typeVocabSize: number;
  hiddenAct: BertActivation;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  layerNormEps: number;
  padTokenId: number;
  /** ERNIE 3.0: add a task-type embedding (`embeddings.task_type_embeddings.weight`). */
  useTaskId: boolean;
  taskTypeVocabSize: number;
  /** The file the values came from. */
  source: string;
}

const CONFIG_FILES = ['config.json', 'model_config.json'];
const SUPPORTED_MODEL_TYPES = new Set(['bert', 'ernie']);

function findConfigFile(dir: string): string {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new UserError(`${dir}: checkpoint directory not found`);
  }
  if (stat.isFile()) return dir;
  for (const name of CONFIG_FILES) {
    const file = nodePath.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  throw new UserError(`${dir}: no ${CONFIG_FILES.join(' or ')} found in the checkpoint directory`);
}

/** Old PaddleNLP model_config.json nests the arguments: `{"init_class", "init_args": [{...}]}`, maybe twice. */
function unwrapInitArgs(obj: Record<string, unknown>): Record<string, unknown> {
  let cur = obj;
  while (Array.isArray(cur.init_args) && isPlainObject(cur.init_args[0])) cur = cur.init_args[0];
  return cur;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Typed reads of one config object, with errors that name the file and key. */
class ConfigReader {
  constructor(
    private readonly file: string,
    private readonly obj: Record<string, unknown>,
  ) {}

  private fail(key: string, problem: string): never {
    throw new InputError({ file: this.file, field: key }, problem);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  int(key: string, min: number, fallback?: number): number {
    if (!this.has(key)) {
      if (fallback === undefined) this.fail(key, 'required key is missing');
      return fallback;
    }
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      this.fail(key, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  fraction(key: string, fallback: number): number {
    const v = this.has(key) ? this.obj[key] : fallback;
    if (typeof v !== 'number' || !(v >= 0 && v < 1))
      this.fail(key, `must be a number in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  }

  positive(key: string, fallback: number): number {
    const v = this.has(key) ? this.obj[key] : fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) {
      this.fail(key, `must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.has(key) ? this.obj[key] : fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  activation(key: string, fallback: string): BertActivation {
    const v = this.has(key) ? this.obj[key] : fallback;
    const act = typeof v === 'string' ? ACTIVATIONS[v] : undefined;
    if (act === undefined) {
      this.fail(
        key,
        `unsupported activation ${JSON.stringify(v)} (supported: ${Object.keys(ACTIVATIONS).join(', ')})`,
      );
    }
    return act;
  }

  /** Keys whose non-default values describe an architecture we do not build. */
  checkArchitecture(): void {
    const modelType = this.obj.model_type;
    if (modelType !== undefined && !(typeof modelType === 'string' && SUPPORTED_MODEL_TYPES.has(modelType))) {
      this.fail('model_type', `${JSON.stringify(modelType)} is not supported (only bert and ernie)`);
    }
    const positions = this.obj.position_embedding_type;
    if (positions !== undefined && positions !== 'absolute') {
      this.fail('position_embedding_type', `${JSON.stringify(positions)} is not supported (only "absolute")`);
    }
  }
}

function parseConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(json)) throw new UserError(`${file}: must contain a JSON object`);
  return unwrapInitArgs(json);
}

/**
 * Reads a BERT/ERNIE config from `dir` (config.json, else PaddleNLP's model_config.json; `dir` may also be
 * the JSON file itself). Shape-defining sizes vocab_size, hidden_size, num_hidden_layers and
 * num_attention_heads are required; everything else takes the defaults of Hugging Face's BertConfig, which
 * PaddleNLP shares except type_vocab_size — so the loader must still check tensor shapes against
 * bertParameterShapes.
 */
export function readBertConfig(dir: string): BertConfig {
  const file = findConfigFile(dir);
  const r = new ConfigReader(file, parseConfigFile(file));
  r.checkArchitecture();
  const hiddenSize = r.int('hidden_size', 1);
  const numAttentionHeads = r.int('num_attention_heads', 1);
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new InputError(
      { file, field: 'num_attention_heads' },
      `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numAttentionHeads}`,
    );
  }
  const useTaskId = r.bool('use_task_id', false);
  return {
    vocabSize: r.int('vocab_size', 1),
    hiddenSize,
    numHiddenLayers: r.int('num_hidden_layers', 1),
    numAttentionHeads,
    // 3072 whatever the hidden size: that is what both libraries build when the key is absent.
    intermediateSize: r.int('intermediate_size', 1, 3072),
    maxPositionEmbeddings: r.int('max_position_embeddings', 1, 512),
    typeVocabSize: r.int('type_vocab_size', 0, 2),
    hiddenAct: r.activation('hidden_act', 'gelu'),
    hiddenDropoutProb: r.fraction('hidden_dropout_prob', 0.1),
    attentionProbsDropoutProb: r.fraction('attention_probs_dropout_prob', 0.1),
    // Paddle's nn.LayerNorm defaults to epsilon 1e-5, and PaddleNLP's model_config.json does not say it.
    layerNormEps: r.positive(
      'layer_norm_eps',
      nodePath.basename(file) === 'model_config.json' ? 1e-5 : 1e-12,
    ),
    padTokenId: r.int('pad_token_id', 0, 0),
    useTaskId,
    taskTypeVocabSize: r.int('task_type_vocab_size', useTaskId ? 1 : 0, 3),
    source: file,
  };
}

/**
 * Every encoder parameter alembic builds for `config`, with its shape (Linear weights [out, in]), in a
 * fixed order. Compare a mapped checkpoint against it to find missing tensors and shape mismatches.
 */
export function bertParameterShapes(
  config: BertConfig,
  opts: { pooler?: boolean } = {},
): Map<string, number[]> {
  const h = config.hiddenSize;
  const shapes = new Map<string, number[]>();
  shapes.set('embeddings.word_embeddings.weight', [config.vocabSize, h]);
  shapes.set('embeddings.position_embeddings.weight', [config.maxPositionEmbeddings, h]);
  if (config.typeVocabSize > 0)
    shapes.set('embeddings.token_type_embeddings.weight', [config.typeVocabSize, h]);
  if (config.useTaskId) shapes.set('embeddings.task_type_embeddings.weight', [config.taskTypeVocabSize, h]);
  addNorm(shapes, 'embeddings.LayerNorm', h);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const p = `encoder.layer.${i}`;
    for (const part of ['query', 'key', 'value']) addLinear(shapes, `${p}.attention.self.${part}`, h, h);
    addLinear(shapes, `${p}.attention.output.dense`, h, h);
    addNorm(shapes, `${p}.attention.output.LayerNorm`, h);
    addLinear(shapes, `${p}.intermediate.dense`, h, config.intermediateSize);
    addLinear(shapes, `${p}.output.dense`, config.intermediateSize, h);
    addNorm(shapes, `${p}.output.LayerNorm`, h);
  }
  if (opts.pooler ?? true) addLinear(shapes, 'pooler.dense', h, h);
  return shapes;
}

function addLinear(
  shapes: Map<string, number[]>,
  name: string,
  inFeatures: number,
  outFeatures: number,
): void {
  shapes.set(`${name}.weight`, [outFeatures, inFeatures]);
  shapes.set(`${name}.bias`, [outFeatures]);
}

function addNorm(shapes: Map<string, number[]>, name: string, size: number): void {
  shapes.set(`${name}.weight`, [size]);
  shapes.set(`${name}.bias`, [size]);
}
