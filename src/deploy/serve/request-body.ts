/**
 * The body of a prediction request, checked by hand so every refusal names what is wrong:
 *   {"texts": ["…", …]}            single-text tasks
 *   {"pairs": [["a", "b"], …]}      pair tasks (text-pair classification, matching)
 * A bad body is the client's to fix (400 with the reason); too much in one request is 413.
 */
import type { PredictInput } from '../predictor.js';

/** Tasks whose inputs are two texts. */
const PAIR_TASKS = new Set(['text_pair_classification', 'text_matching']);

export function isPairTask(task: string): boolean {
  return PAIR_TASKS.has(task);
}

export interface BodyLimits {
  /** Most inputs in one request. */
  maxInputs: number;
  /** Longest text, in characters (Unicode code points: an emoji is one). */
  maxTextChars: number;
}

/** A request the service refuses, with its HTTP status and a reason the client can act on. */
export class RequestError extends Error {
  constructor(
    readonly statusCode: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Code points in `s`: UTF-16 units less one per surrogate pair. */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

export function checkText(v: unknown, where: string, limits: BodyLimits): string {
  if (typeof v !== 'string') throw new RequestError(400, `${where}: expected a string, got ${describe(v)}`);
  // A string has at least as many UTF-16 units as code points: only a long one needs counting.
  if (v.length > limits.maxTextChars) {
    const chars = codePointLength(v);
    if (chars > limits.maxTextChars)
      throw new RequestError(
        413,
        `${where}: ${chars} characters is more than the limit of ${limits.maxTextChars}`,
      );
  }
  return v;
}

/** Turns a parsed JSON body into model inputs for a model of `task`, or throws RequestError. */
export function parsePredictBody(body: unknown, task: string, limits: BodyLimits): PredictInput[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new RequestError(
      400,
      `body: expected a JSON object with "texts" or "pairs", got ${describe(body)}`,
    );
  const obj = body as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => k !== 'texts' && k !== 'pairs');
  if (unknown.length)
    throw new RequestError(400, `body: unknown field "${unknown[0]}"; expected "texts" or "pairs"`);
  const pair = isPairTask(task);
  const field = pair ? 'pairs' : 'texts';
  const other = pair ? 'texts' : 'pairs';
  if (obj[other] !== undefined)
    throw new RequestError(400, `${other}: this model (${task}) takes "${field}", not "${other}"`);
  const list = obj[field];
  if (list === undefined) throw new RequestError(400, `body: missing "${field}"`);
  if (!Array.isArray(list)) throw new RequestError(400, `${field}: expected an array, got ${describe(list)}`);
  if (list.length === 0) throw new RequestError(400, `${field}: is empty; send at least one input`);
  if (list.length > limits.maxInputs)
    throw new RequestError(
      413,
      `${field}: ${list.length} inputs is more than the limit of ${limits.maxInputs} per request`,
    );
  if (!pair) return list.map((t, i) => ({ text: checkText(t, `texts[${i}]`, limits) }));
  return list.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 2)
      throw new RequestError(
        400,
        `pairs[${i}]: expected [textA, textB], got ${Array.isArray(p) ? `${p.length} items` : describe(p)}`,
      );
    return {
      text: checkText(p[0], `pairs[${i}][0]`, limits),
      textB: checkText(p[1], `pairs[${i}][1]`, limits),
    };
  });
}
