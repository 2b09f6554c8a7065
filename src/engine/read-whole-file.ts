/**
 * Reads a whole file into one buffer in 1 GiB pieces, because fs.readFileSync refuses files over 2 GiB and
 * pickled checkpoints (PyTorch zip, Paddle pdparams) have to be parsed from memory.
 */
import * as fs from 'node:fs';
import { UserError } from '../util/errors.js';

const CHUNK = 1 << 30;

export function readWholeFile(file: string, what: string): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new UserError(`${file}: cannot read the ${what}: ${(e as Error).message}`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    let out: Uint8Array;
    try {
      out = new Uint8Array(size);
    } catch {
      throw new UserError(
        `${file}: ${size} bytes is too large to load as one ${what}; use a sharded checkpoint`,
      );
    }
    let done = 0;
    while (done < size) {
      const got = fs.readSync(fd, out, done, Math.min(size - done, CHUNK), done);
      if (got === 0) throw new UserError(`${file}: the ${what} shrank while being read`);
      done += got;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}
