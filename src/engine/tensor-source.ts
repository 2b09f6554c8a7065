/**
 * One checkpoint file seen the same way whatever its format (safetensors, PyTorch zip, Paddle pickle): the
 * names it holds, then the raw tensors for the names wanted. Loading code maps names first and reads only
 * what it will copy, so heads and unused tensors of a large checkpoint are never converted.
 */
import { readSafetensors, readSafetensorsHeader, type RawTensor } from './safetensors.js';

export interface TensorSource {
  /** The file, for messages. */
  readonly file: string;
  /** What kind of file it is, for messages ("safetensors", "PyTorch zip", "Paddle pdparams"). */
  readonly format: string;
  /** Every tensor name in the file, in file order. */
  names(): string[];
  /** Contiguous little-endian tensors for `names` (each must exist). */
  read(names: string[]): Map<string, RawTensor>;
}

export function safetensorsSource(file: string): TensorSource {
  return {
    file,
    format: 'safetensors',
    names: () => [...readSafetensorsHeader(file).entries.keys()],
    read: (names) => readSafetensors(file, { names }).tensors,
  };
}
