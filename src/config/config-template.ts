/**
 * What `alembic init-config` writes: for each (task, net) a config that trains as written on data of the
 * documented format. Without a pretrained checkpoint a Transformer gets the from-scratch recipe (2 layers
 * of 128, mean pooling, lr 3e-4, more epochs: the BERT fine-tuning recipe — 4×256, [CLS] pooling, lr
 * 5e-5, 3 epochs — stays at chance from scratch); with `--pretrained-dir` it gets that fine-tuning recipe.
 * Each section carries "//" comments (alembic ignores keys starting with //): data format, the net's own
 * settings only, and a metric the task reports.
 */
import os from 'node:os';
import type { TaskName } from './run-config.js';
import { UserError } from '../util/errors.js';

export interface TemplateOptions {
  /** A BERT/ERNIE checkpoint directory: the fine-tuning recipe. */
  pretrainedDir?: string;
  /** language_model: "masked" writes a pre-training config for `alembic pretrain`. */
  objective?: 'causal' | 'masked';
}

/** The documented file format of each task (what the dataset comment says). */
export const DATA_FORMATS: Record<TaskName, string> = {
  text_classification: 'TSV, one example a line: text<TAB>label',
  text_pair_classification: 'TSV, one example a line: text_a<TAB>text_b<TAB>label',
  multi_label_classification: 'TSV, one example a line: text<TAB>label label … (labels separated by spaces)',
  sequence_labeling:
    'TSV, one sentence a line: space-separated tokens<TAB>space-separated tags, one tag per token ' +
    '(B-/I- tags, or BIOES with tag_scheme, are scored as entity chunks; other tags by token accuracy)',
  text_matching:
    'TSV: text_a<TAB>text_b<TAB>label (0/1, or a relevance score), or for training query<TAB>positive<TAB>negative',
  reading_comprehension:
    'SQuAD JSON: {"data": [{"paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}',
  text_generation: 'TSV, one example a line: source<TAB>target',
  language_model: 'plain text, one text a line',
};

/** The nets a task can be trained with, and why not the others. */
const NOT_FOR: Partial<Record<TaskName, { nets: string[]; why: string }>> = {
  language_model: {
    nets: ['bow', 'cnn'],
    why: 'a language model reads left to right: lstm, gru or transformer',
  },
  text_generation: { nets: ['bow', 'cnn'], why: 'text_generation takes transformer, gru or lstm' },
  // A span's scores come from each context token's own state. A bow's is the token's embedding alone and a
  // cnn's sees three tokens: neither ever sees the question, so all either can learn is where answers tend
  // to be (poem-next-line, 32 dims: bow F1 0.09, cnn 0.18–0.25, the best fixed span 0.30).
  reading_comprehension: {
    nets: ['bow', 'cnn'],
    why: "a context token's answer score must see the question; a bow sees the token alone, a cnn 3 tokens: reading_comprehension takes transformer, gru or lstm",
  },
};

export function checkTemplatePair(task: TaskName, net: string, opts: TemplateOptions = {}): void {
  const not = NOT_FOR[task];
  if (not?.nets.includes(net)) throw new UserError(`--net: ${net} cannot do ${task} (${not.why})`);
  if (opts.objective === 'masked' && (task !== 'language_model' || net !== 'transformer'))
    throw new UserError('--objective masked: masked-LM pre-training is for a language_model transformer');
  if (opts.pretrainedDir && net !== 'transformer')
    throw new UserError('--pretrained-dir: a pretrained checkpoint is a Transformer; use --net transformer');
}

/** The early-stopping metric written: one the task reports (sequence labelling and matching choose theirs). */
function metricFor(task: TaskName): { metric?: string; '//': string } {
  switch (task) {
    case 'sequence_labeling':
      return { '//': 'no metric given: entity-chunk f1 for B-/I- tags, token accuracy for other tags' };
    case 'text_matching':
      return { '//': 'no metric given: accuracy for 0/1 labels, spearman for scores, mrr for pairwise data' };
    case 'language_model':
      return { metric: 'perplexity', '//': 'perplexity (lower is better), loss' };
    case 'text_generation':
      return { metric: 'bleu', '//': 'bleu, rouge_l, perplexity, loss' };
    case 'reading_comprehension':
      return { metric: 'f1', '//': 'f1, exact_match' };
    case 'multi_label_classification':
      return { metric: 'micro_f1', '//': 'micro_f1, macro_f1, example_f1, subset_accuracy, loss' };
    default:
      return {
        metric: 'macro_f1',
        '//': 'macro_f1, accuracy, macro_precision, macro_recall, auc (binary), loss',
      };
  }
}

function modelSection(task: TaskName, net: string, opts: TemplateOptions): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  if (task === 'sequence_labeling') extra.head = 'crf'; // a CRF keeps the tag sequence consistent (no I-PER after B-LOC)
  // A tagger over words meets words it never saw in training: a character CNN per word tells them apart by
  // their spelling (Brown POS, 4,887 training sentences, 3 seeds: unseen words 0.42 → 0.73, all 0.860 → 0.925).
  if (task === 'sequence_labeling' && (net === 'lstm' || net === 'gru' || net === 'cnn'))
    extra.char_features = {
      '//': 'a char CNN per word beside its embedding; leave it out when every token is one character (Chinese)',
      dim: 30,
      filters: 50,
      width: 3,
      max_word_len: 20,
    };
  if (task === 'multi_label_classification') extra.threshold = 0.5;
  if (task === 'reading_comprehension') extra.max_answer_len = 30; // tokens: the longest answer predicted
  switch (net) {
    case 'bow':
      // fastText's recipe beat the MLP BOW and TF-IDF + logistic regression on SpamAssassin, Tang-vs-Song and
      // Brown genres (3 seeds each, docs/benchmarks.md). 100,000 buckets rather than 20,000: Brown's 42,000
      // training bigrams collided (0.6176 → 0.6467 at 32 dimensions). At 100,000 buckets, 32 dimensions scored
      // above 64 on all three and above 128 on the two measured with it. Through fewer dimensions than classes
      // a linear classifier loses rank, hence the comment on embedding_dim.
      if (task === 'text_classification')
        return {
          net,
          '//': "fastText's recipe: the mean of word and hashed bigram vectors, all starting at zero, straight into the classifier",
          embedding_dim: 32,
          '// embedding_dim': 'at least the number of classes (the classifier is linear in these 32 numbers)',
          bow: 'linear',
          ngrams: 2,
          buckets: 100000,
          init_std: 0,
          dropout: 0.1,
          ...extra,
        };
      return {
        net,
        '//': 'mean of word vectors, then a hidden layer',
        embedding_dim: 128,
        hidden_size: 128,
        dropout: 0.1,
        ...extra,
      };
    case 'cnn':
      return {
        net,
        '//': 'convolutions of these widths over the word vectors',
        embedding_dim: 128,
        kernel_widths: [2, 3, 4],
        num_filters: 128,
        dropout: 0.1,
        ...extra,
      };
    case 'gru':
    case 'lstm':
      return {
        net,
        '//':
          task === 'language_model' || task === 'text_generation'
            ? 'reads left to right'
            : 'bidirectional: reads the text both ways',
        embedding_dim: 128,
        hidden_size: 128,
        num_layers: 1,
        ...(task === 'language_model' || task === 'text_generation' ? {} : { bidirectional: true }),
        dropout: 0.1,
        ...extra,
      };
    default:
      if (opts.pretrainedDir)
        return {
          net,
          '//': 'fine-tuning: the shape (layers, hidden size, heads) comes from the checkpoint',
          pretrained_dir: opts.pretrainedDir,
          pooling: 'cls',
          dropout: 0.1,
          ...extra,
        };
      return {
        net,
        '//': 'from scratch: a small encoder and mean pooling train well without pre-training; set pretrained_dir (init-config --pretrained-dir) to fine-tune a checkpoint instead',
        hidden_size: 128,
        num_layers: 2,
        num_heads: 4,
        ffn_size: 512,
        dropout: 0.1,
        pooling: 'mean',
        ...extra,
      };
  }
}

/** The tasks whose training file can be streamed (their Task.streaming gives a StreamingSupport). */
const STREAMED_TASKS: ReadonlySet<TaskName> = new Set([
  'text_classification',
  'text_pair_classification',
  'multi_label_classification',
  'text_matching',
  'sequence_labeling',
  'text_generation',
  'language_model',
]);

/** fastText's BOW learns only through its table: a higher rate and twice the epochs (early stopping ends it). */
const LINEAR_BOW_LR = 1e-2;

/**
 * The starting learning rate. A bag of words has few weights per word and learns slowly at the RNN/CNN
 * rate. Nets that predict tokens (language model, generation) learn slowly at the classifier rates: on
 * 1,200 poems a character GRU LM after 225 steps reached 0.95× the unigram perplexity at 1e-3 and 0.73×
 * at 3e-3; a Transformer LM 0.65× at 1e-3. Masked-LM pre-training keeps the encoder's 3e-4. A siamese
 * GRU or LSTM matcher learns the pair's relation only once both of its encodings carry it, and slowly at
 * 1e-3: on brown-same-text (2,400 pairs, 450 steps, 32 units) a GRU reached 0.64 at 1e-3, 0.74 at 3e-3.
 */
function learningRate(task: TaskName, net: string, fineTune: boolean, masked: boolean): number {
  if (fineTune) return 5e-5;
  const predictsTokens = (task === 'language_model' && !masked) || task === 'text_generation';
  if (net === 'transformer') return predictsTokens ? 1e-3 : 3e-4;
  if (net === 'bow') return task === 'text_classification' ? LINEAR_BOW_LR : 5e-3;
  const siameseRnn = task === 'text_matching' && (net === 'gru' || net === 'lstm');
  return predictsTokens || siameseRnn ? 3e-3 : 1e-3;
}

export function startingConfig(
  task: TaskName,
  net: string,
  opts: TemplateOptions = {},
): Record<string, unknown> {
  checkTemplatePair(task, net, opts);
  const fineTune = net === 'transformer' && opts.pretrainedDir !== undefined;
  const scratchTransformer = net === 'transformer' && !fineTune;
  const ext = task === 'reading_comprehension' ? 'json' : task === 'language_model' ? 'txt' : 'tsv';
  const tokenizer = fineTune
    ? { type: 'wordpiece', lowercase: true, '//': "wordpiece reads the checkpoint's vocab.txt" }
    : task === 'sequence_labeling'
      ? { type: 'whitespace', lowercase: false, '//': 'the tokens are given, separated by spaces' }
      : {
          type: 'char',
          lowercase: true,
          '//': 'char (Chinese) | jieba (Chinese words) | whitespace (English words)',
        };
  const config: Record<string, unknown> = {
    '//': `alembic ${task} with ${net}${fineTune ? ' (fine-tuning)' : ''}. Keys starting with // are comments. Paths are relative to this file.`,
    task,
    dataset: {
      '//': DATA_FORMATS[task],
      train: `data/train.${ext}`,
      dev: `data/dev.${ext}`,
      test: `data/test.${ext}`,
      tokenizer,
      max_len: 128,
      vocab: { min_freq: 1, max_size: 50000 },
      ...(task === 'sequence_labeling' ? { tag_scheme: 'BIO' } : {}),
      ...(task === 'reading_comprehension'
        ? {
            max_question_len: 32,
            doc_stride: 64,
            '// windows':
              'each window is [CLS] question [SEP] context [SEP] in max_len tokens; a longer context is cut ' +
              'into windows that move on by at most doc_stride tokens, overlapping by the longest answer',
          }
        : {}),
      ...(STREAMED_TASKS.has(task)
        ? {
            streaming: 'auto',
            '// streaming':
              'true: read the training file a batch at a time through an index of its lines, for files larger ' +
              'than memory; "auto": above 256 MiB',
          }
        : {}),
    },
    model: modelSection(task, net, opts),
    trainer: {
      '//': 'The 10/100/1000 rule: log every 10 steps, evaluate every 100, checkpoint every 1000.',
      epochs: fineTune ? 3 : scratchTransformer || (net === 'bow' && task === 'text_classification') ? 10 : 5,
      batch_size: 32,
      learning_rate: learningRate(task, net, fineTune, opts.objective === 'masked'),
      warmup_ratio: 0.1,
      weight_decay: 0.01,
      max_grad_norm: 1.0,
      seed: 42,
      threads: os.availableParallelism(),
      '// threads': "libtorch threads: this machine's cores (alembic train --threads N overrides it)",
      train_log_step: 10,
      eval_step: 100,
      save_model_step: 1000,
      early_stopping: { ...metricFor(task), patience: 5 },
      output_dir: 'runs/my-model',
    },
  };
  if (task === 'text_generation')
    config.generation = {
      '//': 'beam search; max_length counts target tokens',
      beam_size: 4,
      max_length: 64,
    };
  if (task === 'language_model')
    config.language_model =
      opts.objective === 'masked'
        ? {
            '//': 'masked-LM pre-training: run with `alembic pretrain`; output_dir becomes a pretrained_dir',
            objective: 'masked',
            mask_prob: 0.15,
          }
        : { '//': 'next-token prediction; alembic score and predict use it', objective: 'causal' };
  return config;
}
