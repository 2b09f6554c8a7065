/**
 * Running an exported sequence labeller: the task cuts each sentence into rows (windows of whole tokens,
 * as in training), the graph scores every position, and the tags are decoded per row — Viterbi over the
 * graph's CRF parameters (viterbi.ts) or per-token argmax for the softmax head — then joined per sentence
 * and read into entities by the task, so predictions print exactly as a libtorch model's do.
 */
import type { PredictedEntity } from '../predictor.js';
import type {
  Entity,
  SequenceInput,
  SequenceLabelingState,
  SequenceLabelingTask,
  SequencePrediction,
} from '../../tasks/sequence-labeling.js';
import { schemeConstraints } from '../../tasks/tag-scheme.js';
import { textUnits, type SequenceRow } from '../../tasks/token-alignment.js';
import type { RunOutput, TensorValue } from '../onnx/index.js';
import { CHAR_PAD_ID, padCharIds } from '../../data/char-vocab.js';
import { ATTENTION_MASK, CHAR_IDS, INPUT_IDS, padIds } from './io.js';
import type { DeployManifest } from './manifest.js';
import { restoreTask } from './restore-task.js';
import type { TaskRuntime } from './task-runtime.js';
import { viterbi, type CrfParams } from './viterbi.js';

/** The task's prediction, plus its entities located in the input text for the service. */
interface LocatedPrediction extends SequencePrediction {
  chunks?: PredictedEntity[];
}

/** Rows per graph call. */
const ROW_BATCH = 64;

export function sequenceLabelingRuntime(
  manifest: DeployManifest,
  dir: string,
): TaskRuntime<SequenceInput, LocatedPrediction> {
  const task = restoreTask(manifest, dir) as SequenceLabelingTask;
  const state = manifest.state as SequenceLabelingState;
  // The model decodes under the scheme's constraints when the tags spell chunks (SequenceLabelingTask.buildModel).
  const constraints = state.chunked ? schemeConstraints(state.tags, state.scheme) : undefined;
  const padId = task.aligner.vocab.padId;

  const decodeRows = (rows: SequenceRow[], out: Record<string, RunOutput>): DecodedRow[] => {
    const [, time, k] = out.emissions.dims;
    const emissions = out.emissions.data as Float32Array;
    const crf: CrfParams | undefined = out.transitions
      ? {
          numTags: k,
          transitions: out.transitions.data as Float32Array,
          start: out.start_transitions.data as Float32Array,
          end: out.end_transitions.data as Float32Array,
        }
      : undefined;
    return rows.map((row, r) => {
      const score = (w: number, tag: number) => emissions[(r * time + row.starts[w]) * k + tag];
      const ids = crf
        ? viterbi(score, row.starts.length, crf, constraints, { start: row.first, end: row.last })
        : row.starts.map((_, w) => {
            let best = 0;
            for (let j = 1; j < k; j++) if (score(w, j) > score(w, best)) best = j;
            return best;
          });
      return { ids, probs: ids.map((tag, w) => softmaxAt(score, w, tag, k)) };
    });
  };

  // The characters of each position's word, built by the same aligner as in training (char-vocab.ts).
  const width = task.aligner.spec.charWordLen;
  const charInput = (rows: SequenceRow[]): Record<string, TensorValue> => {
    if (!width) return {};
    const time = Math.max(1, ...rows.map((r) => r.ids.length));
    const data = padCharIds(
      rows.map((r) => r.chars ?? []),
      time,
      width,
      CHAR_PAD_ID,
    );
    return { [CHAR_IDS]: { data, dims: [rows.length, time, width] } };
  };

  return {
    task: manifest.task,
    labels: state.tags,
    predict: async (examples, run) => {
      const features = examples.map((e) => task.encode(e));
      const rows = features.flatMap((f, sentence) => f.rows.map((row) => ({ row, sentence })));
      const tagIds: number[][] = features.map(() => []);
      const tagProbs: number[][] = features.map(() => []);
      for (let i = 0; i < rows.length; i += ROW_BATCH) {
        const batch = rows.slice(i, i + ROW_BATCH);
        const padded = padIds(
          batch.map((r) => r.row.ids),
          padId,
        );
        const out = await run({
          [INPUT_IDS]: padded.ids,
          [ATTENTION_MASK]: padded.mask,
          ...charInput(batch.map((r) => r.row)),
        });
        decodeRows(
          batch.map((r) => r.row),
          out,
        ).forEach((d, j) => {
          tagIds[batch[j].sentence].push(...d.ids);
          tagProbs[batch[j].sentence].push(...d.probs);
        });
      }
      return tagIds.map((ids, i) => {
        const tags = ids.map((id) => state.tags[id]);
        const entities = task.entities(features[i].source, tags);
        const chunks = located(entities, features[i].source.spans, tagProbs[i]);
        return chunks ? { tags, entities, chunks } : { tags, entities };
      });
    },
    // A line of space-separated tokens, or raw text the tokenizer cuts (as SequenceLabelingTask.read does).
    fromInput: (input) => {
      const tokens = input.text.trim().split(/ +/);
      // Offsets of the space-separated tokens, for the service's entity offsets (no `text`: entity
      // words stay joined as the task joins tokens).
      if (tokens.length !== 1) {
        const spans = spaceSeparatedSpans(input.text);
        return spans.length === tokens.length ? { tokens, spans } : { tokens };
      }
      const units = textUnits(input.text, manifest.config.dataset.tokenizer);
      return units.tokens.length
        ? { tokens: units.tokens, text: input.text, spans: units.spans }
        : { tokens };
    },
    // The Predictor interface's labels are the tags, one per token; a tagger has no per-label probabilities.
    toOutput: (p) => ({ labels: p.tags, probabilities: [], entities: p.chunks }),
  };
}

interface DecodedRow {
  ids: number[];
  /** Softmax probability of each chosen tag. */
  probs: number[];
}

function softmaxAt(score: (w: number, tag: number) => number, w: number, tag: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, score(w, j));
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(score(w, j) - max);
  return Math.exp(score(w, tag) - max) / sum;
}

/** The task's entities with character offsets (when the input's token spans are known) and a score. */
function located(
  entities: Entity[],
  spans: Array<[number, number]> | undefined,
  probs: number[],
): PredictedEntity[] | undefined {
  if (!spans) return undefined;
  return entities.map((e) => {
    let sum = 0;
    for (let w = e.start; w < e.end; w++) sum += probs[w];
    return {
      type: e.type,
      word: e.text,
      start: spans[e.start][0],
      end: spans[e.end - 1][1],
      score: sum / (e.end - e.start),
    };
  });
}

/** [start, end) of each space-separated token of `text`. */
function spaceSeparatedSpans(text: string): Array<[number, number]> {
  return [...text.matchAll(/[^ ]+/g)].map((m) => [m.index, m.index + m[0].length]);
}
