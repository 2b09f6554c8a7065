/**
 * Writes examples in the TSV formats the readers read, so a corpus split can be handed to the trainer
 * as files: classification (`text<TAB>label`, pairs, multi-label, and a header row when there are
 * numeric features), sequence labelling (`tokens<TAB>tags`), generation (`source<TAB>target`) and
 * language-model text (one text per line). Tabs and line breaks inside a text become spaces, since they
 * would end the field or the line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../../util/errors.js';
import type {
  ClassificationExample,
  GenerationExample,
  SequenceExample,
  TextExample,
} from '../readers/types.js';

export type WritableExample = ClassificationExample | SequenceExample | GenerationExample | TextExample;

/**
 * Writes one example per line, in the format its fields call for (all examples must be of one kind).
 * Creates the folder if needed. Returns the number of lines written.
 */
export function writeTsv(examples: readonly WritableExample[], path: string): number {
  const lines = tsvLines(examples);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.map((line) => line + '\n').join(''));
  return lines.length;
}

/** The lines writeTsv writes, without the line breaks. */
export function tsvLines(examples: readonly WritableExample[]): string[] {
  if (examples.length === 0) return [];
  const first = examples[0];
  if ('tokens' in first) return examples.map((e) => sequenceLine(e as SequenceExample));
  if ('source' in first) return examples.map((e) => generationLine(e as GenerationExample));
  const classification = examples as ClassificationExample[];
  const head = classification[0];
  const featureNames = Object.keys(head.features ?? {});
  const plainText = classification.every((e) => e.label === undefined && e.labels === undefined && !e.textB);
  if (plainText && featureNames.length === 0) return classification.map((e) => field(e.text));
  const lines = classification.map((e) => classificationLine(e, featureNames));
  if (featureNames.length === 0) return lines;
  const header = [
    head.textB !== undefined ? ['text_a', 'text_b'] : ['text_a'],
    hasLabel(head) ? ['label'] : [],
  ]
    .flat()
    .concat(featureNames);
  return [header.join('\t'), ...lines];
}

function classificationLine(e: ClassificationExample, featureNames: string[]): string {
  const fields = [field(e.text)];
  if (e.textB !== undefined) fields.push(field(e.textB));
  if (e.labels !== undefined) fields.push(e.labels.map(labelName).join(' '));
  else if (e.label !== undefined) fields.push(labelName(e.label));
  for (const name of featureNames) {
    const value = e.features?.[name];
    if (value === undefined)
      throw new UserError(`example ${e.id ?? e.line ?? ''}: feature ${name} is missing`);
    fields.push(String(value));
  }
  return fields.join('\t');
}

function sequenceLine(e: SequenceExample): string {
  const tokens = e.tokens.map(item).join(' ');
  return e.tags === undefined ? tokens : `${tokens}\t${e.tags.map(item).join(' ')}`;
}

function generationLine(e: GenerationExample): string {
  return e.target === undefined ? field(e.source) : `${field(e.source)}\t${field(e.target)}`;
}

function hasLabel(e: ClassificationExample): boolean {
  return e.label !== undefined || e.labels !== undefined;
}

/** A text field: tabs and line breaks would split it, so they become spaces. */
function field(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}

/** A token or tag is written space-separated, so spaces inside one would split it: they become `_`. */
function item(token: string): string {
  return token.replace(/\s+/g, '_');
}

/** Labels are space-separated in multi-label files, so a label name cannot hold whitespace. */
function labelName(label: string): string {
  if (/\s/.test(label) || label === '') {
    throw new UserError(
      `label ${JSON.stringify(label)} is empty or holds whitespace; rename it before writing a TSV`,
    );
  }
  return label;
}
