/**
 * The training config: one JSON file, validated here. Unknown keys and wrong types are reported with
 * their JSON path; relative paths are resolved against the config file's folder so a config can move
 * with its data. Defaults follow the guide's 10/100/1000 rule for log/eval/save steps.
 */
import path from 'node:path';
import { z } from 'zod';
import { readCheckpointTokenizer } from './checkpoint-tokenizer.js';
import { checkMetricName } from './metric-names.js';
import { applyOverrides } from './overrides.js';
import { didYouMean } from '../util/did-you-mean.js';
import { UserError } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';

export const TASKS = [
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
  'sequence_labeling',
  'text_matching',
  'reading_comprehension',
  'text_generation',
  'language_model',
] as const;
export type TaskName = (typeof TASKS)[number];

export const NETS = ['bow', 'cnn', 'gru', 'lstm', 'transformer'] as const;

const tokenizerSchema = z
  .object({
    /** "auto": "char" when most letters of the training texts are CJK, else "words" (tokenizers/auto.ts). */
    type: z.enum(['auto', 'char', 'jieba', 'whitespace', 'words', 'wordpiece']).default('auto'),
    vocab: z.string().optional(),
    /** Default: the pretrained checkpoint's do_lower_case, else true. */
    lowercase: z.boolean().optional(),
    /** wordpiece: default the checkpoint's strip_accents, else follow `lowercase`. */
    strip_accents: z.boolean().optional(),
    /** wordpiece: default the checkpoint's tokenize_chinese_chars, else true. */
    tokenize_chinese_chars: z.boolean().optional(),
    /** wordpiece: extra special tokens kept whole in text; default those the checkpoint declares. */
    special_tokens: z.array(z.string()).optional(),
  })
  .strict();

const datasetSchema = z
  .object({
    train: z.string(),
    dev: z.string().optional(),
    test: z.string().optional(),
    numeric_features: z.array(z.string()).default([]),
    /** The format of data files whose extension is not .tsv, .csv or .jsonl (those say it themselves). */
    format: z.enum(['tsv', 'csv', 'jsonl']).optional(),
    tokenizer: tokenizerSchema.default({ type: 'auto', lowercase: true }),
    max_len: z.number().int().min(2).max(4096).default(128),
    vocab: z
      .object({
        min_freq: z.number().int().min(1).default(1),
        max_size: z.number().int().min(10).default(50000),
        /**
         * A file in the training file's format whose texts the vocabulary is counted on instead of the
         * training file's: for training files holding augmented copies, whose repeats would lift words
         * seen once into the vocabulary (data distillation counts on the gold + unlabelled texts).
         */
        from: z.string().optional(),
      })
      .strict()
      .default({ min_freq: 1, max_size: 50000 }),
    label_map: z.string().optional(),
    skip_bad_lines: z.boolean().default(false),
    /**
     * Read the training file a batch at a time through an index of its lines instead of into memory, so that
     * memory does not grow with the file (src/data/streamed-lines.ts). "auto": for training files above
     * STREAMING_AUTO_BYTES whose task and settings allow it; small files are faster in memory.
     */
    streaming: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /** Sequence labelling: how entity tags are spelled (BIO: B-/I-/O; BIOES adds E- and S-, M- = I-). */
    tag_scheme: z.enum(['BIO', 'BIOES']).default('BIO'),
    /** Reading comprehension: the most tokens a context window moves on from the previous one. */
    doc_stride: z.number().int().positive().default(128),
    /** Reading comprehension: questions are cut to this many tokens. */
    max_question_len: z.number().int().positive().default(64),
  })
  .strict();

/** dataset.streaming "auto" streams training files larger than this (256 MiB). */
export const STREAMING_AUTO_BYTES = 256 * 2 ** 20;

const modelSchema = z
  .object({
    net: z.enum(NETS),
    embedding_dim: z.number().int().positive().default(128),
    hidden_size: z.number().int().positive().default(128),
    num_layers: z.number().int().positive().default(1),
    num_heads: z.number().int().positive().default(4),
    ffn_size: z.number().int().positive().default(512),
    kernel_widths: z.array(z.number().int().positive()).default([2, 3, 4]),
    num_filters: z.number().int().positive().default(128),
    bidirectional: z.boolean().default(true),
    dropout: z.number().min(0).max(0.9).default(0.1),
    max_positions: z.number().int().positive().default(512),
    pretrained_dir: z.string().optional(),
    /** A BERT/ERNIE config.json that fixes the Transformer's shape without loading any weights. alembic sets
     *  it when it reloads a model directory trained from `pretrained_dir` (the directory keeps a copy). */
    encoder_config: z.string().optional(),
    /** Transformer: the pooler reads [CLS] (BERT) or the mean of the real tokens (TransformerOptions.pooling). */
    pooling: z.enum(['cls', 'mean']).default('cls'),
    /** Multi-label: predict a label when its probability reaches this (tuned on dev when "auto"). */
    threshold: z.union([z.number().min(0).max(1), z.literal('auto')]).default(0.5),
    /** Sequence labelling: independent softmax per token, or a CRF over the tag sequence. */
    head: z.enum(['softmax', 'crf']).default('crf'),
    /** Text matching with a siamese net: cosine of the two vectors, or an MLP over [u, v, |u−v|, u·v]
     *  (default: 'mlp' for pointwise 0/1 labels, 'cosine' for graded scores and pairwise data). */
    matching_head: z.enum(['cosine', 'mlp']).optional(),
    /** Reading comprehension: the longest answer predicted, in tokens. */
    max_answer_len: z.number().int().positive().default(30),
    /** BOW (classification): fastText's hashed word n-grams up to this length, optional character n-grams
     *  [min, max] per token, sharing `buckets` embedding rows (src/data/ngram-hash.ts); `bow: "linear"` feeds
     *  the pooled embeddings straight to the classifier, as fastText. */
    ngrams: z.number().int().min(1).max(3).default(1),
    // 20,000 buckets held 42,000 distinct word bigrams of 3,196 Brown sentences: the collisions cost 3 points
    // (docs/benchmarks.md); 200,000 did no better than 100,000.
    buckets: z.number().int().min(1).max(4_000_000).default(100_000),
    char_ngrams: z.tuple([z.number().int().min(1), z.number().int().min(1)]).optional(),
    bow: z.enum(['mlp', 'linear']).default('mlp'),
    /** BOW: a learned weight per token and n-gram, so the bag is a weighted mean (src/nets/bow.ts). */
    token_weights: z.boolean().default(false),
    /** BOW: standard deviation of the word embeddings' random start (src/nets/bow.ts). */
    init_std: z.number().min(0).default(1),
    /** Training words read as [UNK] (default: nets/word-dropout.ts, on for word-level nets from scratch). */
    word_dropout: z.number().min(0).max(0.5).optional(),
    /** Sequence labelling with a GRU/LSTM/CNN over words: a character CNN per word (src/nets/char-cnn.ts) beside
     *  its embedding, so unknown words differ. Off unless given. */
    char_features: z
      .object({
        dim: z.number().int().positive().default(30),
        filters: z.number().int().positive().default(50),
        width: z.number().int().positive().default(3),
        max_word_len: z.number().int().positive().max(100).default(20),
      })
      .strict()
      .optional(),
  })
  .strict();

const trainerSchema = z
  .object({
    epochs: z.number().int().positive().default(3),
    max_steps: z.number().int().min(0).default(0),
    batch_size: z.number().int().positive().default(32),
    eval_batch_size: z.number().int().positive().optional(),
    learning_rate: z.number().positive().default(1e-3),
    warmup_ratio: z.number().min(0).max(1).default(0.1),
    lr_schedule: z.enum(['linear', 'cosine', 'constant']).default('linear'),
    weight_decay: z.number().min(0).default(0.01),
    max_grad_norm: z.number().min(0).default(1.0),
    seed: z.number().int().default(42),
    threads: z.number().int().positive().optional(),
    train_log_step: z.number().int().positive().default(10),
    eval_step: z.number().int().positive().default(100),
    save_model_step: z.number().int().positive().default(1000),
    early_stopping: z
      // Without a metric, the task's own default (macro_f1, micro_f1, f1, mrr, …) is used. A run stops after
      // `patience` evaluations without improvement that also span `patience_epochs` epochs of steps, so neither
      // a noisy small dev set nor a long run with frequent evaluations stops it early.
      .object({
        metric: z.string().optional(),
        patience: z.number().int().positive().default(5),
        patience_epochs: z.number().min(0).default(1),
      })
      .strict()
      .optional(),
    metric: z.string().optional(),
    /** Also write the metrics.jsonl scalars as TensorBoard event files under output_dir/tensorboard/. */
    tensorboard: z.boolean().default(false),
    output_dir: z.string(),
  })
  .strict();

/** Decoding and seq2seq options (text_generation, language_model); every field has a default. */
export const generationSchema = z
  .object({
    /** Beam width for text_generation (1 = greedy). */
    beam_size: z.number().int().positive().default(4),
    /** Hypothesis score = log-probability / length^length_penalty (0 = raw log-probability). */
    length_penalty: z.number().min(0).default(1.0),
    /** Longest target (training truncation and decoding limit), in tokens, end token included. */
    max_length: z.number().int().min(2).max(4096).default(64),
    label_smoothing: z.number().min(0).max(0.9).default(0.1),
    /** One vocabulary for source and target (else target_vocab.txt beside vocab.txt). */
    shared_vocab: z.boolean().default(true),
    /** Decoder depth (default model.num_layers). */
    decoder_layers: z.number().int().positive().optional(),
    /** language_model predict: sampling temperature and top-k (0 = the whole vocabulary). */
    temperature: z.number().positive().default(1.0),
    top_k: z.number().int().min(0).default(0),
  })
  .strict();

/** language_model: next-token (causal) or BERT-style masked-token objective. */
export const languageModelSchema = z
  .object({
    objective: z.enum(['causal', 'masked']).default('causal'),
    /** Masked LM: share of tokens chosen for prediction (80% [MASK], 10% random, 10% kept). */
    mask_prob: z.number().min(0.01).max(0.9).default(0.15),
  })
  .strict();

/**
 * Data distillation (alembic data-distill): training lines may end with a column of the teacher's class
 * probabilities; those lines are trained against them (KL at `temperature`, weight `alpha`, the rest
 * cross-entropy on the teacher's label). Single-label classification only.
 */
export const softLabelsSchema = z
  .object({
    temperature: z.number().positive().default(2),
    alpha: z.number().min(0).max(1).default(0.5),
  })
  .strict();

export const configSchema = z
  .object({
    task: z.enum(TASKS),
    dataset: datasetSchema,
    model: modelSchema,
    trainer: trainerSchema,
    generation: generationSchema.optional(),
    language_model: languageModelSchema.optional(),
    soft_labels: softLabelsSchema.optional(),
  })
  .strict();

export type TrainConfig = z.infer<typeof configSchema>;
export type TokenizerType = TrainConfig['dataset']['tokenizer']['type'];
export type DatasetConfig = TrainConfig['dataset'];
export type ModelConfig = TrainConfig['model'];
export type TrainerConfig = TrainConfig['trainer'];

/** The batch size of evaluation and prediction: `eval_batch_size`, else twice the training batch (no
 *  gradients are kept, so twice as many examples fit in the same memory). */
export function evalBatchSize(t: Pick<TrainerConfig, 'batch_size' | 'eval_batch_size'>): number {
  return t.eval_batch_size ?? t.batch_size * 2;
}

/** Validates a parsed config; `source` names the file in errors. Paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, source: string, baseDir = path.dirname(source)): TrainConfig {
  const c = validateConfig(configSchema, raw, source);
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  c.dataset.train = resolve(c.dataset.train)!;
  c.dataset.dev = resolve(c.dataset.dev);
  c.dataset.test = resolve(c.dataset.test);
  c.dataset.label_map = resolve(c.dataset.label_map);
  c.dataset.vocab.from = resolve(c.dataset.vocab.from);
  c.dataset.tokenizer.vocab = resolve(c.dataset.tokenizer.vocab);
  c.model.pretrained_dir = resolve(c.model.pretrained_dir);
  c.model.encoder_config = resolve(c.model.encoder_config);
  c.trainer.output_dir = resolve(c.trainer.output_dir)!;
  resolveTokenizerSettings(c);
  checkNgrams(c, source);
  checkCharFeatures(c, source);
  if (c.dataset.tokenizer.type === 'wordpiece' && !c.dataset.tokenizer.vocab && !c.model.pretrained_dir) {
    throw new UserError(
      `${source}: dataset.tokenizer.vocab: the wordpiece tokenizer needs a vocab.txt (or model.pretrained_dir)`,
    );
  }
  return c;
}

/**
 * Tokenizer switches the config leaves out take the pretrained checkpoint's own settings (tokenizer.json,
 * tokenizer_config.json, model_config.json), so a cased checkpoint is not lowercased by a default; then
 * `lowercase` defaults to true. Written into the config, they are saved with the model and reused by
 * evaluation, prediction and export even after the checkpoint has gone.
 */
function resolveTokenizerSettings(c: TrainConfig): void {
  const t = c.dataset.tokenizer;
  const open = t.lowercase === undefined || (t.type === 'wordpiece' && t.strip_accents === undefined);
  if (c.model.pretrained_dir && open) {
    const own = readCheckpointTokenizer(c.model.pretrained_dir);
    t.lowercase ??= own.lowercase;
    if (t.type === 'wordpiece') {
      t.strip_accents ??= own.stripAccents;
      t.tokenize_chinese_chars ??= own.tokenizeChineseChars;
      if (own.specials.length) t.special_tokens ??= own.specials;
    }
  }
  t.lowercase ??= true;
  if (t.type === 'wordpiece') {
    t.strip_accents ??= t.lowercase;
    t.tokenize_chinese_chars ??= true;
  }
}

/** n-grams are appended to a bag's ids, so only a BOW that classifies whole texts can take them. */
function checkNgrams(c: TrainConfig, source: string): void {
  const m = c.model;
  const asked = m.ngrams > 1 ? 'model.ngrams' : m.char_ngrams ? 'model.char_ngrams' : undefined;
  if (asked && (m.net !== 'bow' || !CLASSIFICATION_TASKS.includes(c.task))) {
    throw new UserError(`${source}: ${asked}: n-gram features need net "bow" and a classification task`);
  }
  if (m.token_weights && m.net !== 'bow') {
    throw new UserError(`${source}: model.token_weights: token weights need net "bow"`);
  }
  if (m.char_ngrams && m.char_ngrams[0] > m.char_ngrams[1]) {
    throw new UserError(`${source}: model.char_ngrams: [min, max] with min ≤ max`);
  }
}

/**
 * Character features describe whole words, so they need a word tokenizer (a character or WordPiece
 * vocabulary has no unknown words to describe) and, for now, the word-level taggers that read a sequence of
 * word vectors (GRU, LSTM, CNN).
 */
function checkCharFeatures(c: TrainConfig, source: string): void {
  const cf = c.model.char_features;
  if (!cf) return;
  const where = `${source}: model.char_features`;
  if (c.task !== 'sequence_labeling' || !['lstm', 'gru', 'cnn'].includes(c.model.net)) {
    throw new UserError(
      `${where}: character features need task "sequence_labeling" with net "lstm", "gru" or "cnn"`,
    );
  }
  const tokenizer = c.dataset.tokenizer.type;
  if (tokenizer === 'char' || tokenizer === 'wordpiece') {
    throw new UserError(`${where}: the ${tokenizer} tokenizer has no words to describe by their characters`);
  }
  if (cf.width % 2 !== 1) throw new UserError(`${where}.width: must be odd, got ${cf.width}`);
}

const CLASSIFICATION_TASKS: readonly string[] = [
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
];

/** Reads a config file with `--set key.path=value` overrides applied; metric names are checked too. */
export function loadConfig(file: string, overrides: readonly string[] = []): TrainConfig {
  const c = parseConfig(applyOverrides(readJsonFile(file, 'config file'), overrides, file), file);
  checkMetrics(c, file);
  return c;
}

/** The dev metrics a config names must be ones its task reports (a saved distillation stage has its own). */
export function checkMetrics(c: TrainConfig, source: string): void {
  const objective = c.language_model?.objective;
  checkMetricName(c.trainer.metric, c.task, objective, `${source}: trainer.metric`);
  const stop = c.trainer.early_stopping?.metric;
  checkMetricName(stop, c.task, objective, `${source}: trainer.early_stopping.metric`);
}

/** Checks a config (comments dropped) against its schema; the first issues, each named by field, make one error. */
export function validateConfig<S extends z.ZodType>(schema: S, raw: unknown, source: string): z.output<S> {
  const result = schema.safeParse(stripComments(raw), { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.slice(0, 8).map((issue) => {
      const where = issue.path.length ? issue.path.join('.') : '(top level)';
      return `${source}: ${where}: ${issue.message}${nearMiss(schema, issue)}`;
    });
    throw new UserError(lines.join('\n'));
  }
  return result.data;
}

/** Keys starting with "//" are comments (JSON has none); they are dropped before validation. */
export function stripComments(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripComments);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([k]) => !k.startsWith('//'))
      .map(([k, v]) => [k, stripComments(v)]),
  );
}

/** "did you mean" for a misspelled key (the keys the schema has there) or option value. */
function nearMiss(schema: z.ZodType, issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value')
    return typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.map(String)) : '';
  if (issue.code !== 'unrecognized_keys') return '';
  const known = keysAt(schema, issue.path);
  return issue.keys.map((k) => didYouMean(k, known)).join('');
}

/** The keys an object schema accepts at a path (through defaults, optionals and arrays). */
function keysAt(schema: z.ZodType, at: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  for (let i = 0; node && i <= at.length;) {
    const def = node.def as { type: string; innerType?: z.ZodType; element?: z.ZodType };
    if (def.innerType) node = def.innerType;
    else if (def.type === 'array' && i < at.length) [node, i] = [def.element, i + 1];
    else if (node instanceof z.ZodObject) {
      if (i === at.length) return Object.keys(node.shape);
      [node, i] = [node.shape[String(at[i])] as z.ZodType | undefined, i + 1];
    } else return [];
  }
  return [];
}
