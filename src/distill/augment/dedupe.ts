/**
 * De-duplication of a huge output in bounded memory: a set of 64-bit string hashes in an
 * open-addressing table held in one typed array, instead of a Set of the lines themselves.
 *
 * Memory: 8 bytes a slot, 35–70 % of slots full (it doubles at 70 %), so 11–23 bytes per distinct line
 * (plus the old table briefly while growing); 10 M distinct lines take ≤ 230 MB whatever their length.
 * Cost: two different lines that share all 64 hash bits count as duplicates; among n lines that
 * happens about n²/2⁶⁵ times (≈ 3·10⁻⁶ expected lost lines at n = 10 M).
 */
export class HashSet64 {
  private slots: Uint32Array; // slot i holds (hi, lo) at [2i, 2i+1]; (0, 0) marks an empty slot
  private capacity: number;
  private count = 0;
  private hi = 0;
  private lo = 0;

  constructor(initialCapacity = 1 << 16) {
    this.capacity = 1 << Math.max(4, Math.ceil(Math.log2(initialCapacity)));
    this.slots = new Uint32Array(this.capacity * 2);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /** Adds the string's hash; returns false when it was already present (a duplicate). */
  add(text: string): boolean {
    this.hash(text);
    if (!this.insert(this.hi, this.lo, this.slots, this.capacity - 1)) return false;
    this.count++;
    if (this.count > this.capacity * 0.7) this.grow();
    return true;
  }

  has(text: string): boolean {
    this.hash(text);
    const mask = this.capacity - 1;
    for (let i = this.lo & mask; ; i = (i + 1) & mask) {
      const h = this.slots[2 * i];
      const l = this.slots[2 * i + 1];
      if (h === 0 && l === 0) return false;
      if (h === this.hi && l === this.lo) return true;
    }
  }

  private insert(hi: number, lo: number, slots: Uint32Array, mask: number): boolean {
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const h = slots[2 * i];
      const l = slots[2 * i + 1];
      if (h === 0 && l === 0) {
        slots[2 * i] = hi;
        slots[2 * i + 1] = lo;
        return true;
      }
      if (h === hi && l === lo) return false;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Uint32Array(this.capacity * 2);
    const mask = this.capacity - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i], old[i + 1], this.slots, mask);
    }
  }

  /**
   * cyrb53's two multiply–xorshift lanes over UTF-16 code units, keeping all 64 bits; written to
   * fields rather than returned so the hot path allocates nothing.
   */
  private hash(text: string): void {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.hi = h2 >>> 0;
    this.lo = h1 >>> 0;
    if (this.hi === 0 && this.lo === 0) this.lo = 1; // (0, 0) is the empty-slot marker
  }
}
