/**
 * Running an exported matcher: the task encodes each pair (two texts for siamese nets, one `[CLS] a [SEP] b
 * [SEP]` input for the cross-encoder) and the graph's `score` output is the prediction. Pairwise examples
 * are scored on (query, positive), as MatchingTask.predict does.
 */
import type { MatchingExample, MatchingPrediction, MatchingTask } from '../../tasks/matching.js';
import type { TensorValue } from '../onnx/index.js';
import { ATTENTION_MASK, ATTENTION_MASK_B, INPUT_IDS, INPUT_IDS_B, padIds, TOKEN_TYPE_IDS } from './io.js';
import type { DeployManifest } from './manifest.js';
import { restoreTask } from './restore-task.js';
import type { TaskRuntime } from './task-runtime.js';

export function matchingRuntime(
  manifest: DeployManifest,
  dir: string,
): TaskRuntime<MatchingExample, MatchingPrediction> {
  const task = restoreTask(manifest, dir) as MatchingTask;
  const padId = task.codec.vocab.padId;
  return {
    task: manifest.task,
    labels: [],
    predict: async (examples, run) => {
      const pairs = examples.map((e) => task.encode(e).pair);
      const feeds: Record<string, TensorValue> = {};
      const cross = pairs[0].b === undefined;
      const a = padIds(
        pairs.map((p) => p.a.ids),
        padId,
        cross ? pairs.map((p) => p.a.typeIds) : undefined,
      );
      Object.assign(feeds, { [INPUT_IDS]: a.ids, [ATTENTION_MASK]: a.mask });
      if (cross) feeds[TOKEN_TYPE_IDS] = a.typeIds!;
      else {
        const b = padIds(
          pairs.map((p) => p.b!.ids),
          padId,
        );
        Object.assign(feeds, { [INPUT_IDS_B]: b.ids, [ATTENTION_MASK_B]: b.mask });
      }
      const scores = (await run(feeds)).score.data as Float32Array;
      return Array.from(scores, (score) => ({ score }));
    },
    fromInput: (input) => ({ textA: input.text, textB: input.textB ?? '' }),
    // The Predictor interface's probabilities hold the one similarity score; a matcher has no labels.
    toOutput: (p) => ({ labels: [], probabilities: [p.score] }),
  };
}
