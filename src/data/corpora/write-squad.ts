/**
 * Writes reading-comprehension examples as the SQuAD JSON the reader reads (one paragraph per example),
 * so a corpus-derived split can be handed to the trainer as a file. answer_start counts code points, as
 * SQuAD (and the reader) do; the examples carry JavaScript string indices.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ReadingComprehensionExample } from '../readers/types.js';

/** Writes the examples; returns how many were written. */
export function writeSquad(examples: readonly ReadingComprehensionExample[], path: string): number {
  const paragraphs = examples.map((e) => ({
    context: e.context,
    qas: [
      {
        id: e.id,
        question: e.question,
        answers: e.answers.map((a) => ({
          text: a.text,
          answer_start: [...e.context.slice(0, a.start)].length,
        })),
      },
    ],
  }));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ data: [{ paragraphs }] }) + '\n');
  return examples.length;
}
