/**
 * Answers to an HF-shaped request (hf-request.ts) in the shapes of Hugging Face's pipelines, so HF clients
 * read them unchanged:
 *   classification       [{label, score}, …] sorted by score, top_k of them (default 1)
 *   multi-label          every label the model predicts (above its threshold), sorted, at most top_k
 *   matching             {score}
 *   sequence labelling   [{entity_group, word, start, end, score}, …]
 * A single input gets its result; an array of inputs gets an array of results.
 */
import type { PredictOutput } from '../predictor.js';
import type { HfRequest } from './hf-request.js';

export interface HfLabelScore {
  label: string;
  score: number;
}

export interface HfEntity {
  entity_group: string;
  word: string;
  start: number;
  end: number;
  score: number;
}

export type HfResult = HfLabelScore[] | { score: number } | HfEntity[];

export function hfAnswer(
  task: string,
  labels: readonly string[],
  request: HfRequest,
  outputs: PredictOutput[],
): HfResult | HfResult[] {
  const results = outputs.map((o) => hfResult(task, labels, request.topK, o));
  return request.batched ? results : results[0];
}

function hfResult(
  task: string,
  labels: readonly string[],
  topK: number | undefined,
  o: PredictOutput,
): HfResult {
  if (task === 'text_matching') return { score: o.probabilities[0] };
  if (task === 'sequence_labeling')
    return (o.entities ?? []).map((e) => ({
      entity_group: e.type,
      word: e.word,
      start: e.start,
      end: e.end,
      score: e.score,
    }));
  const scored = labels.map((label, i) => ({ label, score: o.probabilities[i] }));
  const chosen =
    task === 'multi_label_classification' ? scored.filter((s) => o.labels.includes(s.label)) : scored;
  chosen.sort((a, b) => b.score - a.score);
  const multi = task === 'multi_label_classification';
  return chosen.slice(0, topK ?? (multi ? chosen.length : 1));
}
