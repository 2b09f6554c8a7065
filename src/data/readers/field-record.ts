/**
 * One data record as named fields, whatever the file format: TSV columns named by position (or by a
 * header), CSV columns named by the header, JSON Lines keys. Every reader parses examples from these, so
 * a field is checked the same way in all three formats and its errors name file, line and field alike.
 * Values are strings from TSV and CSV, any JSON value from JSON Lines (lists arrive as arrays).
 */
import { InputError } from '../../util/errors.js';
import { parseNumber, requireText } from './read-records.js';

export interface FieldValue {
  /** The column or key as the file spells it, for messages. */
  name: string;
  value: unknown;
}

export class FieldRecord {
  constructor(
    readonly file: string,
    /** The line where the record starts. */
    readonly line: number,
    /** By the reader's own field name (a header's alias already resolved). */
    private readonly fields: ReadonlyMap<string, FieldValue>,
  ) {}

  has(key: string): boolean {
    return this.fields.has(key);
  }

  /** A non-blank text. */
  text(key: string): string {
    const { name, value } = this.get(key);
    if (typeof value !== 'string') throw this.error(name, `must be a string, found ${describe(value)}`);
    return requireText(this.file, this.where(), name, value);
  }

  /** A label name: a non-blank text (trimmed), or a JSON number or boolean spelled as text. */
  label(key: string): string {
    const { name, value } = this.get(key);
    return this.item(name, value).trim();
  }

  /** A number, or a text holding one; `what` says what the number is for in the error. */
  number(key: string, what?: string): number {
    const { name, value } = this.get(key);
    if (typeof value === 'number') return value;
    if (typeof value !== 'string') throw this.error(name, `must be a number, found ${describe(value)}`);
    return parseNumber(this.file, this.where(), name, value, what);
  }

  /**
   * A non-empty list of items: a JSON array, or a text of items separated by spaces (or by \u0002 when
   * the text holds one: the PaddleNLP format, whose tokens may hold spaces).
   */
  list(key: string): string[] {
    const { name, value } = this.get(key);
    if (Array.isArray(value)) {
      if (value.length === 0) throw this.error(name, 'is empty');
      return value.map((item, i) => this.item(`${name}[${i}]`, item));
    }
    if (typeof value !== 'string')
      throw this.error(name, `must be a list or a string, found ${describe(value)}`);
    requireText(this.file, this.where(), name, value);
    if (value.includes('\u0002')) return value.split('\u0002');
    return value.trim().split(/ +/);
  }

  /** The name the file gives a field, for messages about it. */
  nameOf(key: string): string {
    return this.fields.get(key)?.name ?? key;
  }

  error(field: string, problem: string): InputError {
    return new InputError({ file: this.file, line: this.line, field }, problem);
  }

  private item(name: string, value: unknown): string {
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (typeof value !== 'string') throw this.error(name, `must be a string, found ${describe(value)}`);
    return requireText(this.file, this.where(), name, value);
  }

  private get(key: string): FieldValue {
    const field = this.fields.get(key);
    if (field === undefined) {
      const present = [...this.fields.values()].map((f) => f.name);
      throw this.error(key, `missing (the record has ${present.length ? present.join(', ') : 'no fields'})`);
    }
    return field;
  }

  private where(): { number: number; text: string } {
    return { number: this.line, text: '' };
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
