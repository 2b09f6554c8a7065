import type { Rng } from '../../util/rng.js';

/** Source of same-POS replacement words; an interface so that tests and callers can supply their own. */
export interface SameTagSampler {
  /** A random word tagged `tag`, other than `word`; undefined when the tag has no other word. */
  sampleOther(tag: string, word: string, rng: Rng): string | undefined;
}

interface TagTable {
  words: string[];
  /** cumulative[i] = total count of words[0..i]; sampling is a binary search over it. */
  cumulative: Float64Array;
  indexOf: Map<string, number>;
}

/**
 * The dataset's POS → word → frequency table (pass 1), sampled in proportion to frequency (pass 2),
 * so replacements follow the dataset's own word distribution. Memory is bounded by the vocabulary,
 * not by the file size.
 */
export class PosLexicon implements SameTagSampler {
  private counts: Map<string, Map<string, number>> | undefined = new Map();
  private tables = new Map<string, TagTable>();

  /** Counts the tagged words of one text; untagged words are not replacement candidates. */
  addText(words: readonly string[], tags: readonly (string | undefined)[]): void {
    for (let i = 0; i < words.length; i++) {
      const tag = tags[i];
      if (tag !== undefined) this.add(tag, words[i]);
    }
  }

  add(tag: string, word: string, count = 1): void {
    if (this.counts === undefined) throw new Error('PosLexicon: add() after sampling has started');
    let byWord = this.counts.get(tag);
    if (byWord === undefined) this.counts.set(tag, (byWord = new Map()));
    byWord.set(word, (byWord.get(word) ?? 0) + count);
  }

  /** Number of distinct (tag, word) entries. */
  get size(): number {
    let n = 0;
    for (const table of this.freeze().values()) n += table.words.length;
    return n;
  }

  /** Number of tags with at least two words, i.e. tags whose words can actually be replaced. */
  get replaceableTags(): number {
    let n = 0;
    for (const table of this.freeze().values()) if (table.words.length >= 2) n++;
    return n;
  }

  /**
   * Draws in proportion to frequency among the tag's words with `word` itself excluded, so that every
   * chosen replacement really changes the text and the replacement rate equals p.
   */
  sampleOther(tag: string, word: string, rng: Rng): string | undefined {
    const table = this.freeze().get(tag);
    if (table === undefined) return undefined;
    const { words, cumulative, indexOf } = table;
    const total = cumulative[cumulative.length - 1];
    const self = indexOf.get(word);
    const selfStart = self === undefined ? 0 : self === 0 ? 0 : cumulative[self - 1];
    const selfCount = self === undefined ? 0 : cumulative[self] - selfStart;
    if (total - selfCount <= 0) return undefined;
    let r = rng.next() * (total - selfCount);
    if (r >= selfStart) r += selfCount;
    const drawn = words[upperBound(cumulative, r)];
    return drawn === word ? undefined : drawn;
  }

  private freeze(): Map<string, TagTable> {
    if (this.counts === undefined) return this.tables;
    for (const [tag, byWord] of this.counts) {
      const words = [...byWord.keys()];
      const cumulative = new Float64Array(words.length);
      let sum = 0;
      for (let i = 0; i < words.length; i++) {
        sum += byWord.get(words[i]) ?? 0;
        cumulative[i] = sum;
        byWord.set(words[i], i); // the count map becomes the index map: no second copy of the vocabulary
      }
      this.tables.set(tag, { words, cumulative, indexOf: byWord });
    }
    this.counts = undefined;
    return this.tables;
  }
}

/** Smallest i with cumulative[i] > r (clamped to the last index against rounding). */
function upperBound(cumulative: Float64Array, r: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
