/**
 * Extractive reading comprehension in the SQuAD / DuReader-robust JSON layout:
 *   {"data": [{"title"?, "paragraphs": [{"context", "qas": [{"id", "question",
 *     "answers": [{"text", "answer_start"}], "is_impossible"?}]}]}]}
 * Every answer is checked against its context (the span at answer_start must be the answer text), since
 * a shifted offset silently trains a model on the wrong span. answer_start counts characters (code
 * points, as Python does); the examples carry JavaScript string indices instead.
 */
import { readFile } from 'node:fs/promises';
import { fileError, readLinesSync } from '../line-reader.js';
import { InputError, UserError } from '../../util/errors.js';
import { parseJsonText } from './json-position.js';
import type { AnswerSpan, ReaderOptions, ReadingComprehensionExample, ReadResult } from './types.js';

export interface ReadingComprehensionReadOptions extends ReaderOptions {
  /** False for predict input: answers are not required (and not read). Default true. */
  labelled?: boolean;
}

/** With skipBadLines, a bad question (not a bad line) is left out and counted. */
export async function readReadingComprehensionJson(
  file: string,
  options: ReadingComprehensionReadOptions = {},
): Promise<ReadResult<ReadingComprehensionExample>> {
  const root = parseJsonFile(
    file,
    await readFile(file).catch((e: unknown) => Promise.reject(fileError(file, e))),
  );
  const labelled = options.labelled ?? true;
  const examples: ReadingComprehensionExample[] = [];
  const seenIds = new Set<string>();
  let skipped = 0;

  const data = field(root, 'data', file, '');
  if (!Array.isArray(data)) throw new InputError({ file, field: 'data' }, 'must be a list of articles');
  data.forEach((article: unknown, a) => {
    const articlePath = `data[${a}]`;
    const title = optionalString(
      field(article, 'title', file, articlePath, true),
      file,
      `${articlePath}.title`,
    );
    const paragraphs = list(
      field(article, 'paragraphs', file, articlePath),
      file,
      `${articlePath}.paragraphs`,
    );
    paragraphs.forEach((paragraph: unknown, p) => {
      const paragraphPath = `${articlePath}.paragraphs[${p}]`;
      const context = string(
        field(paragraph, 'context', file, paragraphPath),
        file,
        `${paragraphPath}.context`,
      );
      const qas = list(field(paragraph, 'qas', file, paragraphPath), file, `${paragraphPath}.qas`);
      qas.forEach((qa: unknown, q) => {
        try {
          const example = readQuestion(file, qa, `${paragraphPath}.qas[${q}]`, context, labelled);
          if (seenIds.has(example.id))
            throw new InputError({ file, field: qaField(example.id, 'id') }, 'used twice');
          seenIds.add(example.id);
          if (title !== undefined) example.title = title;
          examples.push(example);
        } catch (error) {
          if (!(options.skipBadLines && error instanceof InputError)) throw error;
          skipped++;
          options.onWarning?.(`${error.message} (question skipped)`);
        }
      });
    });
  });
  if (examples.length === 0) {
    throw new UserError(
      `${file}: no questions` + (skipped > 0 ? `: all ${skipped} were bad and skipped` : ''),
    );
  }
  return { examples, skipped };
}

/** Decodes strictly and parses, turning errors into `file:line` messages. */
function parseJsonFile(file: string, bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    readLinesSync(file, { maxLineLength: Infinity }); // throws an InputError naming the bad line
    throw new InputError({ file }, 'not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new UserError(`${file}: file is empty`);
  return parseJsonText(text, file);
}

function readQuestion(
  file: string,
  qa: unknown,
  path: string,
  context: string,
  labelled: boolean,
): ReadingComprehensionExample {
  const rawId = field(qa, 'id', file, path);
  if (typeof rawId !== 'string' && typeof rawId !== 'number') {
    throw new InputError({ file, field: `${path}.id` }, 'must be a string');
  }
  const id = String(rawId);
  const question = string(field(qa, 'question', file, path), file, qaField(id, 'question'));
  if (question.trim() === '') throw new InputError({ file, field: qaField(id, 'question') }, 'is empty');
  const impossible = field(qa, 'is_impossible', file, path, true) ?? false;
  if (typeof impossible !== 'boolean') {
    throw new InputError({ file, field: qaField(id, 'is_impossible') }, 'must be true or false');
  }
  const example: ReadingComprehensionExample = {
    id,
    question,
    context,
    answers: [],
    isImpossible: impossible,
  };
  if (!labelled || impossible) return example;

  const answers = list(field(qa, 'answers', file, path), file, qaField(id, 'answers'));
  if (answers.length === 0) {
    throw new InputError(
      { file, field: qaField(id, 'answers') },
      'no answers, and is_impossible is not true',
    );
  }
  example.answers = answers.map((answer, k) => readAnswer(file, answer, id, k, context));
  return example;
}

function readAnswer(file: string, answer: unknown, id: string, k: number, context: string): AnswerSpan {
  const path = qaField(id, `answers[${k}]`);
  const text = string(field(answer, 'text', file, path), file, `${path}.text`);
  if (text.trim() === '') throw new InputError({ file, field: `${path}.text` }, 'is empty');
  const startField = `${path}.answer_start`;
  const start = field(answer, 'answer_start', file, path);
  if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) {
    throw new InputError({ file, field: startField }, `${JSON.stringify(start)} is not a character offset`);
  }
  const from = utf16Index(context, start);
  const found = from === undefined ? undefined : context.slice(from, from + text.length);
  if (found !== text) {
    const where =
      found === undefined ? `past the end of the context (${[...context].length} characters)` : `at ${start}`;
    throw new InputError(
      { file, field: startField },
      `the answer ${JSON.stringify(text)} is not in the context ${where}` +
        (found === undefined ? '' : `: the context has ${JSON.stringify(found)} there`),
    );
  }
  return { text, start: from as number };
}

/** The string index of the code point at `codePoint`, or undefined past the end. */
function utf16Index(text: string, codePoint: number): number | undefined {
  if (!/[\uD800-\uDFFF]/.test(text)) return codePoint <= text.length ? codePoint : undefined;
  let index = 0;
  for (let n = 0; n < codePoint; n++) {
    if (index >= text.length) return undefined;
    index += (text.codePointAt(index) as number) > 0xffff ? 2 : 1;
  }
  return index <= text.length ? index : undefined;
}

function qaField(id: string, name: string): string {
  return `qa ${JSON.stringify(id)}: ${name}`;
}

/** An object's member, required unless `optional`. */
function field(object: unknown, name: string, file: string, path: string, optional = false): unknown {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new InputError({ file, field: path || 'top level' }, 'must be an object');
  }
  const value = (object as Record<string, unknown>)[name];
  if (value === undefined && !optional) {
    throw new InputError({ file, field: path ? `${path}.${name}` : name }, 'missing');
  }
  return value;
}

function list(value: unknown, file: string, path: string): unknown[] {
  if (!Array.isArray(value)) throw new InputError({ file, field: path }, 'must be a list');
  return value;
}

function string(value: unknown, file: string, path: string): string {
  if (typeof value !== 'string') throw new InputError({ file, field: path }, 'must be a string');
  return value;
}

function optionalString(value: unknown, file: string, path: string): string | undefined {
  return value === undefined ? undefined : string(value, file, path);
}
