/**
 * A small seedable random number generator (xoshiro128**), so that data splits, shuffles and
 * augmentation are reproducible from a seed and independent of libtorch's generator.
 */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    // splitmix32 expands the seed into four non-zero words of state.
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * Fisher–Yates shuffle in place; returns the array. A typed array (a streamed data set's order) draws
   * exactly as a plain array of the same length does.
   */
  shuffle<A extends { length: number; [i: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const swap = items[i];
      items[i] = items[j];
      items[j] = swap;
    }
    return items;
  }

  /** The generator's state, to save in a checkpoint and restore on resume. */
  getState(): number[] {
    return Array.from(this.s);
  }

  setState(state: number[]): void {
    this.s = Uint32Array.from(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * The generator that shuffles one epoch's batches. It depends on the run's seed and the epoch alone, not
 * on what earlier epochs drew, so a run resumed at any epoch shuffles exactly as an uninterrupted one.
 * Multiplying by 7919 (the 1000th prime) spaces the runs: seed s + 1 at epoch e is seed s at epoch
 * e + 7919, far beyond any run's epochs, so runs with neighbouring seeds never replay each other's order.
 */
export function epochRng(seed: number, epoch: number): Rng {
  return new Rng(seed * 7919 + epoch);
}
