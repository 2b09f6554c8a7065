/**
 * Finding NaN and ±Infinity in numeric arrays: damaged weights must be refused at load, and a prediction may
 * never carry a NaN to the user. One pass, no allocation, so it can sit on the prediction path.
 */

/** Index of the first NaN or ±Infinity, or -1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is 0 for every finite number and NaN for NaN and ±Infinity.
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Index of the first NaN, or -1 (±Infinity can be a legitimate output, e.g. a masked logit). */
export function firstNaN(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (values[i] !== values[i]) return i;
  return -1;
}

/** Whether a task's prediction holds a NaN anywhere, however nested (numbers, arrays, typed arrays, objects). */
export function hasNaN(value: unknown, depth = 0): boolean {
  if (typeof value === 'number') return value !== value;
  if (value === null || typeof value !== 'object' || depth > 8) return false;
  if (ArrayBuffer.isView(value)) {
    return value instanceof Float32Array || value instanceof Float64Array ? firstNaN(value) >= 0 : false;
  }
  if (Array.isArray(value)) return value.some((v) => hasNaN(v, depth + 1));
  return Object.values(value).some((v) => hasNaN(v, depth + 1));
}

/** `value` printed for a message: NaN, Infinity and -Infinity by name. */
export function describeNonFinite(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}
