/**
 * Advice → a ready training config (the shape of src/config/run-config.ts), for the served network or the
 * teacher of one pipeline step. Network shapes are alembic's presets; a pretrained Transformer's must match
 * its checkpoint, so the standard tiny/base/large shapes are used.
 */
import type { Advice } from './advise.js';
import type { Candidate, CandidateId, NetName } from './candidates.js';
import { isTransformer, makeCandidate } from './candidates.js';
import { hyperparamsFor } from './hyperparams.js';
import type { Hyperparams } from './hyperparams.js';
import type { MetricName } from './spec.js';
import type { TaskName } from './task-mapping.js';
import { UserError } from '../util/errors.js';

export interface DataPaths {
  train: string;
  dev?: string;
  test?: string;
}

export interface ConfigOptions {
  /** Pipeline step index (0 = the first or only step). */
  step?: number;
  /** The served network (default) or the teacher to distil from. */
  role?: 'serve' | 'teacher';
  /**
   * The served network to write instead of the advice's first choice: the winner of `advise --measure`,
   * so written configs follow what was measured.
   */
  serve?: CandidateId;
}

export type TokenizerType = 'char' | 'jieba' | 'whitespace' | 'words' | 'wordpiece';

export interface TrainingConfig {
  task: TaskName;
  dataset: {
    train: string;
    dev?: string;
    test?: string;
    numeric_features?: string[];
    tokenizer: { type: TokenizerType; vocab?: string; lowercase?: boolean };
    max_len: number;
    vocab?: { min_freq: number; max_size: number };
  };
  model: {
    net: NetName;
    embedding_dim: number;
    hidden_size: number;
    num_layers: number;
    num_heads?: number;
    ffn_size?: number;
    dropout: number;
    pretrained_dir?: string;
  };
  trainer: {
    epochs: number;
    max_steps: number;
    batch_size: number;
    learning_rate: number;
    warmup_ratio: number;
    weight_decay: number;
    max_grad_norm: number;
    seed: number;
    train_log_step: number;
    eval_step: number;
    save_model_step: number;
    early_stopping: { metric: MetricName; patience: number };
    output_dir: string;
  };
}

type Shape = Pick<
  TrainingConfig['model'],
  'embedding_dim' | 'hidden_size' | 'num_layers' | 'num_heads' | 'ffn_size'
>;

/** Preset shapes; the Transformer sizes are the usual 4-layer tiny, BERT-base and BERT-large shapes. */
export const MODEL_SHAPES: Record<CandidateId, Shape> = {
  bow: { embedding_dim: 128, hidden_size: 128, num_layers: 1 },
  cnn: { embedding_dim: 128, hidden_size: 128, num_layers: 1 },
  gru: { embedding_dim: 128, hidden_size: 128, num_layers: 1 },
  lstm: { embedding_dim: 128, hidden_size: 128, num_layers: 1 },
  'transformer-tiny': { embedding_dim: 312, hidden_size: 312, num_layers: 4, num_heads: 12, ffn_size: 1248 },
  'transformer-base': { embedding_dim: 768, hidden_size: 768, num_layers: 12, num_heads: 12, ffn_size: 3072 },
  'transformer-large': {
    embedding_dim: 1024,
    hidden_size: 1024,
    num_layers: 24,
    num_heads: 16,
    ffn_size: 4096,
  },
};

/** Tasks that label or generate single characters of Chinese text, so read it character by character. */
const CHAR_TASKS: readonly TaskName[] = [
  'sequence_labeling',
  'reading_comprehension',
  'text_generation',
  'language_model',
];

export function adviceToConfig(
  advice: Advice,
  paths: DataPaths,
  options: ConfigOptions = {},
): TrainingConfig {
  const index = options.step ?? 0;
  const role = options.role ?? 'serve';
  const stepAdvice = advice.steps[index];
  if (stepAdvice === undefined) {
    throw new UserError(
      `step ${index} does not exist; the advice has ${advice.steps.length} step(s) (0–${advice.steps.length - 1})`,
    );
  }
  const { step, scheme } = stepAdvice;
  let net: Candidate;
  let hp: Hyperparams;
  if (role === 'teacher') {
    if (scheme.teacher === undefined || stepAdvice.teacher === undefined) {
      throw new UserError(`step ${index} (${step.name}) has no teacher: the advice does not distil`);
    }
    net = scheme.teacher;
    hp = stepAdvice.teacher;
  } else {
    net = scheme.serve[0];
    hp = stepAdvice.serve;
    if (options.serve !== undefined && options.serve !== net.id) {
      net =
        scheme.serve.find((c) => c.id === options.serve) ??
        makeCandidate(options.serve, advice.spec.pretrained);
      hp = hyperparamsFor(net, stepAdvice.serve.trainExamples, stepAdvice.serve.maxLen);
    }
  }
  return candidateConfig(advice, index, net, hp, paths, outputDir(advice, index, role));
}

/**
 * A training config for any network of one step, with the given settings: adviceToConfig's builder, also
 * used to train each candidate briefly when the advice is measured (measure.ts).
 */
export function candidateConfig(
  advice: Advice,
  index: number,
  net: Candidate,
  hp: Hyperparams,
  paths: DataPaths,
  outDir: string,
): TrainingConfig {
  const stepAdvice = advice.steps[index];
  const { step } = stepAdvice;
  const language = advice.spec.input.language;
  return {
    task: step.task,
    dataset: {
      train: paths.train,
      ...(paths.dev !== undefined && { dev: paths.dev }),
      ...(paths.test !== undefined && { test: paths.test }),
      ...(step.numericFeatures.length > 0 && { numeric_features: step.numericFeatures }),
      tokenizer: tokenizerFor(net, step.task, language),
      max_len: hp.maxLen,
      ...(net.pretrainedDir === undefined && { vocab: { min_freq: 1, max_size: 50_000 } }),
    },
    model: {
      net: net.net,
      ...MODEL_SHAPES[net.id],
      dropout: 0.1,
      ...(net.pretrainedDir !== undefined && { pretrained_dir: net.pretrainedDir }),
    },
    trainer: {
      epochs: hp.epochs,
      max_steps: 0,
      batch_size: hp.batchSize,
      learning_rate: hp.learningRate,
      warmup_ratio: hp.warmupRatio,
      weight_decay: 0.01,
      max_grad_norm: 1.0,
      seed: 42,
      train_log_step: hp.trainLogStep,
      eval_step: hp.evalStep,
      save_model_step: hp.saveModelStep,
      early_stopping: { metric: stepAdvice.metric, patience: 5 },
      output_dir: outDir,
    },
  };
}

function tokenizerFor(
  net: Candidate,
  task: TaskName,
  language: 'zh' | 'en',
): TrainingConfig['dataset']['tokenizer'] {
  if (isTransformer(net.id) && net.pretrainedDir !== undefined) {
    // A pretrained model comes with its own vocabulary.
    return {
      type: 'wordpiece',
      vocab: `${net.pretrainedDir.replace(/[\\/]+$/, '')}/vocab.txt`,
      lowercase: language === 'en',
    };
  }
  if (language === 'en') return { type: 'words', lowercase: true }; // punctuation split off
  return { type: CHAR_TASKS.includes(task) ? 'char' : 'jieba' };
}

function outputDir(advice: Advice, index: number, role: 'serve' | 'teacher'): string {
  const stepPart = advice.steps.length > 1 ? `-${index + 1}-${slug(advice.steps[index].step.task)}` : '';
  return `runs/${slug(advice.name)}${stepPart}${role === 'teacher' ? '-teacher' : ''}`;
}

function slug(s: string): string {
  const out = s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return out === '' ? 'advice' : out;
}
