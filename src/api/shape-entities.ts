/**
 * Sequence-labelling predictions in the Hugging Face `token-classification` shape with aggregation:
 * `{entity_group, word, start, end, score}`, start/end as string indices into the input text. alembic's
 * taggers decode whole tag sequences (a CRF's Viterbi path or per-token argmax) and keep no per-entity
 * probability, so `score` is null rather than an invented number.
 */
import { tokenOffsets } from '../deploy/prediction-pipeline.js';
import type { SequenceInput, SequencePrediction } from '../tasks/sequence-labeling.js';

export interface EntityGroup {
  entity_group: string;
  word: string;
  start: number;
  end: number;
  /** null: the model's decoder gives no per-entity probability. */
  score: number | null;
}

export function shapeEntities(text: string, example: SequenceInput, p: SequencePrediction): EntityGroup[] {
  const offsets = tokenOffsets(text, example);
  return p.entities.map((e) => {
    const start = offsets[e.start][0];
    const end = offsets[e.end - 1][1];
    return {
      entity_group: e.type,
      word: end > start ? text.slice(start, end) : e.text,
      start,
      end,
      score: null,
    };
  });
}
