/**
 * The Hugging Face shapes of the tasks that answer with one value per input: reading comprehension
 * (`question-answering`: `{answer, score, start, end}`), matching (`{score}`) and generation
 * (`text2text-generation`: `[{generated_text}]`).
 */
import type { GenerationPrediction } from '../tasks/generation.js';
import type { MatchingPrediction } from '../tasks/matching.js';
import type { ReadingComprehensionPrediction } from '../tasks/reading-comprehension.js';

export interface Answer {
  answer: string;
  /** The span's start + end score as the model ranks spans (not a probability). */
  score: number;
  /** [start, end) in the context; 0, 0 with answer '' when the model says there is no answer. */
  start: number;
  end: number;
}

export function shapeAnswer(p: ReadingComprehensionPrediction): Answer {
  if (p.start < 0 || p.answer === '') return { answer: '', score: p.score, start: 0, end: 0 };
  return { answer: p.answer, score: p.score, start: p.start, end: p.start + p.answer.length };
}

export interface MatchScore {
  score: number;
}

export function shapeMatch(p: MatchingPrediction): MatchScore {
  return { score: p.score };
}

export interface GeneratedText {
  generated_text: string;
}

export function shapeGenerated(p: GenerationPrediction): GeneratedText[] {
  return [{ generated_text: p.text }];
}
