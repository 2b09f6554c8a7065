/**
 * The arithmetic of span extraction over long contexts, kept apart from the model so it can be tested
 * exactly: which context tokens each window holds, where a character-offset answer falls in tokens, and
 * the best span a window's start/end scores allow.
 *
 * A window's input is `[CLS] question [SEP] context[start, end) [SEP]`; position 0 ([CLS]) stands for
 * "no answer in this window".
 */

/** The context tokens [start, end) one window holds. */
export interface TokenWindow {
  start: number;
  end: number;
}

/**
 * Windows of at most `room` tokens over `numTokens` context tokens. Each window starts at most `stride`
 * tokens after the previous one (`doc_stride` as in BERT's run_squad), and consecutive windows overlap by
 * at least `minOverlap` tokens, so that an answer that long straddling one window's end lies wholly in the
 * next: without that rule a stride as long as the window (128 with a short max_len) would cut answers.
 * An empty context still gets one (empty) window, which can only answer "no answer".
 */
export function contextWindows(
  numTokens: number,
  room: number,
  stride: number,
  minOverlap: number,
): TokenWindow[] {
  if (room < 1) throw new RangeError(`a window needs room for at least one token, got ${room}`);
  const step = Math.max(1, Math.min(stride, room - Math.min(minOverlap, Math.floor(room / 2))));
  const windows: TokenWindow[] = [];
  for (let start = 0; ; start += step) {
    const end = Math.min(start + room, numTokens);
    windows.push({ start, end });
    if (end >= numTokens) return windows;
  }
}

/**
 * The tokens [first, last] (inclusive) that cover the characters [charStart, charEnd) of the text, from
 * the tokens' character offsets; undefined when no token overlaps the span (an answer of only spaces).
 * A token that overlaps the span partly is included, so a span inside a word widens to the word.
 */
export function charSpanToTokens(
  offsets: readonly (readonly [number, number])[],
  charStart: number,
  charEnd: number,
): [number, number] | undefined {
  let first = -1;
  let last = -1;
  offsets.forEach(([s, e], i) => {
    if (e > charStart && s < charEnd) {
      if (first < 0) first = i;
      last = i;
    }
  });
  return first < 0 ? undefined : [first, last];
}

export interface ScoredSpan {
  /** Input positions, inclusive. */
  start: number;
  end: number;
  score: number;
}

/**
 * The span [i, j] with from ≤ i ≤ j < to and j − i < maxLength that maximises start[i] + end[j]
 * (undefined when from ≥ to); on a tie the span that ends first wins.
 */
export function bestSpan(
  start: ArrayLike<number>,
  end: ArrayLike<number>,
  from: number,
  to: number,
  maxLength: number,
): ScoredSpan | undefined {
  let best: ScoredSpan | undefined;
  for (let j = from; j < to; j++) {
    for (let i = Math.max(from, j - maxLength + 1); i <= j; i++) {
      const score = start[i] + end[j];
      if (best === undefined || score > best.score) best = { start: i, end: j, score };
    }
  }
  return best;
}
