/**
 * Engine-wide settings: threads and build information.
 */
import { native } from './native.js';

/** Intra-op threads for libtorch (and its OpenMP BLAS). Set once, before heavy work. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`thread count must be a positive integer, got ${n}`);
  native.setNumThreads(n);
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** libtorch's build configuration (BLAS, OpenMP, CPU capabilities). */
export function torchConfig(): string {
  return native.config();
}
