/**
 * Tasks derived from the Tang/Song poems by fixed rules, so that language modelling, generation and
 * reading comprehension have real text to learn from on a fresh checkout (the poems carry no such
 * labels, and hand-written datasets teach nothing about real data):
 *   language model          the poems themselves, one a line;
 *   generation (couplets)   the first line of a couplet ("…，") → its second line ("…。"): same length,
 *                           often parallel in structure and tone, the rhyme at its end;
 *   reading comprehension   context = a poem, question = 「a line」的下一句？ (which line follows it),
 *                           answer = the span of the line after it.
 * Lines are the runs between Chinese punctuation marks.
 */
import { Rng } from '../../util/rng.js';
import type { GenerationExample, ReadingComprehensionExample, TextExample } from '../readers/types.js';

/** A line of a poem: its text, its JavaScript string index and the mark that ends it. */
export interface PoemLine {
  text: string;
  index: number;
  mark: string;
}

const LINE = /([^，。！？；：、\s]+)([，。！？；：、]?)/gu;

export function poemLines(poem: string): PoemLine[] {
  return [...poem.matchAll(LINE)].map((m) => ({ text: m[1], index: m.index, mark: m[2] }));
}

/** The poem as a language-model text. */
export function poemText(poem: string): TextExample {
  return { text: poem };
}

/** Each couplet of a poem: a line closed by "，" and the next line, closed by "。", "！", "？" or "；". */
export function poemCouplets(poem: string): GenerationExample[] {
  const lines = poemLines(poem);
  const out: GenerationExample[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (lines[i].mark === '，' && /^[。！？；]$/.test(lines[i + 1].mark)) {
      out.push({ source: lines[i].text, target: lines[i + 1].text });
      i++;
    }
  }
  return out;
}

/** The question asked about `line`: which line follows it. */
export function nextLineQuestion(line: string): string {
  return `「${line}」的下一句？`;
}

/**
 * One question about a poem of at least two lines: a line picked with `rng` (the last one excepted),
 * answered by the span of the line after it; undefined for a poem of one line or a line repeated in
 * the poem (its question would have two answers).
 */
export function poemQuestion(poem: string, id: string, rng: Rng): ReadingComprehensionExample | undefined {
  const lines = poemLines(poem);
  if (lines.length < 2) return undefined;
  const k = rng.int(lines.length - 1);
  const asked = lines[k].text;
  if (lines.filter((l) => l.text === asked).length > 1) return undefined;
  const answer = lines[k + 1];
  return {
    id,
    question: nextLineQuestion(asked),
    context: poem,
    answers: [{ text: answer.text, start: answer.index }],
    isImpossible: false,
  };
}
