/**
 * `pipeline(dir)`: a trained model directory (libtorch) or an exported one (onnxruntime), detected, called
 * like a Hugging Face pipeline and answering in its shapes. The prediction itself is the CLI's (ModelRunner);
 * this file only turns API inputs into the task's input records and predictions into HF shapes.
 */
import type { ClassificationPrediction } from '../tasks/classification.js';
import type { GenerationPrediction } from '../tasks/generation.js';
import type { MatchingPrediction } from '../tasks/matching.js';
import type { ReadingComprehensionPrediction } from '../tasks/reading-comprehension.js';
import type { SequenceInput, SequencePrediction } from '../tasks/sequence-labeling.js';
import { UserError } from '../util/errors.js';
import { openModelRunner, type ModelRunner } from './model-runner.js';
import {
  shapeAnswer,
  shapeGenerated,
  shapeMatch,
  type Answer,
  type GeneratedText,
  type MatchScore,
} from './shape-answers.js';
import {
  shapeClassification,
  type ClassificationShapeOptions,
  type LabelScore,
} from './shape-classification.js';
import { shapeEntities, type EntityGroup } from './shape-entities.js';

/** A text pair, as Hugging Face spells it (pair classification and matching). */
export interface TextPair {
  text: string;
  text_pair: string;
}

/** A reading-comprehension input. */
export interface QuestionContext {
  question: string;
  context: string;
}

export type PipelineInput = string | TextPair | QuestionContext;

/** One input's answer, by task family. */
export type PipelineResult = LabelScore[] | EntityGroup[] | Answer | MatchScore | GeneratedText[];

export type CallOptions = ClassificationShapeOptions;

export interface PipelineOptions {
  /** onnxruntime intra-op threads for an exported directory (default 1). */
  threads?: number;
}

export interface Pipeline {
  /** One input gives its answer; an array of inputs gives an array of answers, one per input. */
  (input: PipelineInput, opts?: CallOptions): Promise<PipelineResult>;
  (inputs: PipelineInput[], opts?: CallOptions): Promise<PipelineResult[]>;
  /** The model's task, e.g. text_classification. */
  readonly task: string;
  /** 'onnx' for an exported directory, 'torch' for a trained model directory. */
  readonly backend: 'onnx' | 'torch';
  /** The label names of a classifier or tagger, in id order (empty for other tasks). */
  readonly labels: readonly string[];
  /** Releases the model (an onnxruntime session or the libtorch tensors). */
  dispose(): Promise<void>;
}

export async function pipeline(dir: string, opts: PipelineOptions = {}): Promise<Pipeline> {
  const runner = await openModelRunner(dir, { threads: opts.threads });
  const state = runner.task.state() as { labels?: string[]; tags?: string[] } | undefined;
  const labels = state?.labels ?? state?.tags ?? [];
  const run = async (input: PipelineInput | PipelineInput[], call: CallOptions = {}) => {
    const batch = Array.isArray(input);
    const inputs = batch ? input : [input];
    if (inputs.length === 0) return [];
    const results = await predictShaped(runner, labels, inputs, call);
    return batch ? results : results[0];
  };
  return Object.assign(run, {
    task: runner.taskName,
    backend: runner.backend,
    labels,
    dispose: () => runner.dispose(),
  }) as Pipeline;
}

async function predictShaped(
  runner: ModelRunner,
  labels: readonly string[],
  inputs: PipelineInput[],
  call: CallOptions,
): Promise<PipelineResult[]> {
  const task = runner.taskName;
  switch (task) {
    case 'text_classification':
    case 'multi_label_classification':
    case 'text_pair_classification': {
      const pair = task === 'text_pair_classification';
      const rows = inputs.map((x, i) =>
        pair ? { text: pairOf(x, i).text, text_b: pairOf(x, i).text_pair } : { text: textOf(x, i) },
      );
      const preds = (await predictRecords(runner, 'input.jsonl', jsonl(rows))) as ClassificationPrediction[];
      return preds.map((p) => shapeClassification(p, labels, task === 'multi_label_classification', call));
    }
    case 'text_matching': {
      const rows = inputs.map((x, i) => ({ text_a: pairOf(x, i).text, text_b: pairOf(x, i).text_pair }));
      const preds = (await predictRecords(runner, 'input.jsonl', jsonl(rows))) as MatchingPrediction[];
      return preds.map(shapeMatch);
    }
    case 'text_generation': {
      const rows = inputs.map((x, i) => ({ source: textOf(x, i) }));
      const preds = (await predictRecords(runner, 'input.jsonl', jsonl(rows))) as GenerationPrediction[];
      return preds.map(shapeGenerated);
    }
    case 'sequence_labeling': {
      // Raw text, one per line: the task's reader cuts it with the model's tokenizer, as `alembic predict` does.
      const texts = inputs.map((x, i) => textOf(x, i).replace(/[\t\r\n]/g, ' '));
      const examples = (await runner.read('input.txt', texts.join('\n') + '\n')) as SequenceInput[];
      const preds = (await runner.predict(examples)) as SequencePrediction[];
      return preds.map((p, i) => shapeEntities(texts[i], examples[i], p));
    }
    case 'reading_comprehension': {
      const qas = inputs.map((x, i) => questionOf(x, i));
      const squad = {
        data: [
          {
            title: 'input',
            paragraphs: qas.map((q, i) => ({
              context: q.context,
              qas: [{ id: String(i), question: q.question }],
            })),
          },
        ],
      };
      const preds = (await predictRecords(
        runner,
        'input.json',
        JSON.stringify(squad),
      )) as ReadingComprehensionPrediction[];
      return preds.map(shapeAnswer);
    }
    default:
      throw new UserError(`pipeline: a ${task} model has no pipeline shape; use alembic predict`);
  }
}

async function predictRecords(runner: ModelRunner, fileName: string, contents: string): Promise<unknown[]> {
  return runner.predict(await runner.read(fileName, contents));
}

function jsonl(rows: object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

function textOf(x: PipelineInput, i: number): string {
  if (typeof x === 'string') return x;
  const o = x as { text?: unknown; text_pair?: unknown };
  if (typeof o.text === 'string' && o.text_pair === undefined) return o.text;
  throw new UserError(`pipeline input ${i + 1}: this model reads a text (a string)`);
}

function pairOf(x: PipelineInput, i: number): TextPair {
  if (typeof x === 'object' && 'text' in x && typeof x.text === 'string' && typeof x.text_pair === 'string')
    return x;
  throw new UserError(`pipeline input ${i + 1}: this model reads a pair {text, text_pair}`);
}

function questionOf(x: PipelineInput, i: number): QuestionContext {
  if (
    typeof x === 'object' &&
    'question' in x &&
    typeof x.question === 'string' &&
    typeof x.context === 'string'
  )
    return x;
  throw new UserError(`pipeline input ${i + 1}: this model reads {question, context}`);
}
