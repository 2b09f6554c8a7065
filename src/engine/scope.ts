/**
 * Memory scopes. Every tensor created while a `tidy` scope is open belongs to that scope and is
 * disposed when it closes, unless it is returned from the scope (then it moves to the enclosing
 * scope) or was `keep()`-ed. Tensors created outside any scope (model parameters, say) live until
 * disposed explicitly.
 *
 * Scopes know a tensor only as a ScopedTensor (tensor.ts implements it and marks its prototype with
 * SCOPED_TENSOR), so this module does not import tensor.ts, which imports it.
 */
import { native } from './native.js';

/** What a scope needs of a tensor. */
export interface ScopedTensor {
  readonly kept: boolean;
  readonly isDisposed: boolean;
  dispose(): void;
}

/** Marks the objects collectTensors treats as tensors (set on Tensor's prototype). */
export const SCOPED_TENSOR = Symbol('alembic.scopedTensor');

type Tensor = ScopedTensor;

const scopes: Set<Tensor>[] = [];

export function trackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

export function untrackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].delete(t);
}

/** Runs fn; disposes every tensor it created except those in its result (and kept ones). */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    disposeScope(scope, new Set());
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new Error('tidy() takes a synchronous function; await outside the scope');
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, 0);
  disposeScope(scope, survivors);
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of survivors) if (!t.isDisposed) parent.add(t);
  return result;
}

function disposeScope(scope: Set<Tensor>, survivors: Set<Tensor>): void {
  for (const t of scope) if (!t.kept && !survivors.has(t)) t.dispose();
}

// Finds tensors in a result: a tensor, or arrays / plain objects / Maps holding tensors.
function collectTensors(value: unknown, out: Set<Tensor>, depth: number): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (SCOPED_TENSOR in value) {
    out.add(value as unknown as Tensor);
  } else if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, depth + 1);
  }
}

/** Runs fn with autograd recording off (evaluation, optimizer updates, teachers in distillation). */
export function noGrad<T>(fn: () => T): T {
  const previous: boolean = native.isGradEnabled();
  native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Number of tensors alive in the addon (for leak checks). */
export function liveTensorCount(): number {
  return native.liveCount();
}
