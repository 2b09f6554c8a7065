/**
 * Running an exported reading-comprehension model: the task cuts each question's context into windows (as in
 * training), the graph scores every window's positions, and the task's decodeAnswer picks the best span over
 * all windows — so answers are the ones a libtorch model gives.
 */
import type { ReadingComprehensionExample } from '../../data/readers/types.js';
import {
  decodeAnswer,
  type ReadingComprehensionPrediction,
  type ReadingComprehensionState,
  type ReadingComprehensionTask,
  type WindowLogits,
} from '../../tasks/reading-comprehension.js';
import { ATTENTION_MASK, INPUT_IDS, padIds, TOKEN_TYPE_IDS } from './io.js';
import type { DeployManifest } from './manifest.js';
import { restoreTask } from './restore-task.js';
import type { TaskRuntime } from './task-runtime.js';

/** Windows per graph call. */
const WINDOW_BATCH = 64;

export function readingComprehensionRuntime(
  manifest: DeployManifest,
  dir: string,
): TaskRuntime<ReadingComprehensionExample, ReadingComprehensionPrediction> {
  const task = restoreTask(manifest, dir) as ReadingComprehensionTask;
  const state = manifest.state as ReadingComprehensionState;
  const padId = task.codec.vocab.padId;
  const segments = manifest.onnx?.inputs.some((v) => v.name === TOKEN_TYPE_IDS) ?? false;
  const options = { maxAnswerLen: manifest.config.model.max_answer_len, allowNoAnswer: state.allowNoAnswer };
  return {
    task: manifest.task,
    labels: [],
    predict: async (examples, run) => {
      const features = examples.map((e) => task.encode(e));
      const windows = features.flatMap((f) => f.windows);
      const logits: WindowLogits[] = [];
      for (let i = 0; i < windows.length; i += WINDOW_BATCH) {
        const batch = windows.slice(i, i + WINDOW_BATCH);
        const p = padIds(
          batch.map((w) => w.ids),
          padId,
          batch.map((w) => w.typeIds),
        );
        const out = await run({
          [INPUT_IDS]: p.ids,
          [ATTENTION_MASK]: p.mask,
          ...(segments ? { [TOKEN_TYPE_IDS]: p.typeIds! } : {}),
        });
        const time = p.ids.dims[1];
        const start = out.start_logits.data as Float32Array;
        const end = out.end_logits.data as Float32Array;
        batch.forEach((w, r) =>
          logits.push({
            start: start.subarray(r * time, r * time + w.ids.length),
            end: end.subarray(r * time, r * time + w.ids.length),
          }),
        );
      }
      let next = 0;
      return features.map((f) => {
        const mine = logits.slice(next, (next += f.windows.length));
        return decodeAnswer(f, mine, options);
      });
    },
    // The Predictor interface's text is the question and textB the context.
    fromInput: (input) => ({
      id: 'input',
      question: input.text,
      context: input.textB ?? '',
      answers: [],
      isImpossible: false,
    }),
    // The answer as the one label ('' for "no answer"); the span score is not a probability.
    toOutput: (p) => ({ labels: [p.answer], probabilities: [] }),
  };
}
