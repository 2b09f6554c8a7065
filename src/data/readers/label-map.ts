/**
 * Label maps: label name ↔ class id. Built from the training labels in a fixed order (names sorted, or
 * sorted as numbers when every label is an integer, so "2" comes before "10"), so the same data always
 * gives the same ids; saved as label_map.json (`{"name": id}`) next to the model so predict and deploy
 * decode ids the same way.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileError } from '../line-reader.js';
import { InputError, type InputLocation } from '../../util/errors.js';
import { parseJsonText } from './json-position.js';

const INTEGER = /^-?\d+$/;

export class LabelMap {
  private readonly ids: Map<string, number>;

  /** `names[i]` is the label with id i. */
  constructor(readonly names: readonly string[]) {
    this.ids = new Map(names.map((name, id) => [name, id]));
    if (this.ids.size !== names.length) throw new RangeError('label names must be unique');
  }

  /** The distinct labels, sorted by name, or numerically when all are integers. */
  static fromLabels(labels: Iterable<string>): LabelMap {
    const names = [...new Set(labels)];
    if (names.length > 0 && names.every((n) => INTEGER.test(n))) names.sort((a, b) => Number(a) - Number(b));
    else names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new LabelMap(names);
  }

  /** Checks a parsed label_map.json: ids must be the integers 0..n-1, each used once. */
  static fromJson(value: unknown, file: string): LabelMap {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InputError({ file }, 'a label map must be a JSON object {"label name": id, ...}');
    }
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) throw new InputError({ file }, 'the label map is empty');
    const names: string[] = new Array(entries.length);
    for (const [name, id] of entries) {
      const where = { file, field: JSON.stringify(name) };
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length) {
        throw new InputError(
          where,
          `id ${JSON.stringify(id)} is not one of 0..${entries.length - 1} (ids must number the labels from 0)`,
        );
      }
      if (names[id] !== undefined) {
        throw new InputError(where, `id ${id} is already used by ${JSON.stringify(names[id])}`);
      }
      names[id] = name;
    }
    return new LabelMap(names);
  }

  static load(file: string): LabelMap {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw fileError(file, error);
    }
    return LabelMap.fromJson(parseJsonText(text.replace(/^\uFEFF/, ''), file), file);
  }

  save(file: string): void {
    writeFileSync(file, JSON.stringify(this.toJSON(), null, 2) + '\n');
  }

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.ids.has(name);
  }

  /** The id of a label read at `where`; a label the map does not know is the user's data error. */
  id(name: string, where: InputLocation): number {
    const id = this.ids.get(name);
    if (id !== undefined) return id;
    const known = this.names.slice(0, 20).map((n) => JSON.stringify(n));
    if (this.names.length > 20) known.push(`... ${this.names.length - 20} more`);
    throw new InputError(
      { ...where, field: where.field ?? 'label' },
      `${JSON.stringify(name)} is not in the label map (labels: ${known.join(', ')})`,
    );
  }

  name(id: number): string {
    const name = this.names[id];
    if (name === undefined) throw new RangeError(`no label has id ${id} (the map has ${this.size})`);
    return name;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.names.map((name, id) => [name, id]));
  }
}
