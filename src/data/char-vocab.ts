/**
 * The characters of a word, as ids for a character-level word encoder (src/nets/char-cnn.ts). The vocabulary
 * is every character of the training words (in their original spelling: capitals and digits say a lot about
 * an unknown word's tag), built when the word vocabulary is and saved beside it as char_vocab.txt, so the
 * exported runtime reads a word's characters exactly as training did.
 *
 * Every word becomes exactly `maxWordLen` ids (cut, or padded with [PAD]): a fixed width keeps a word's
 * features independent of the other words in its batch, because a convolution with padding sees the same
 * zeros whatever the longest word is.
 */
import { Vocab } from './vocab.js';

/** [PAD]'s id in a char vocabulary (Vocab.build puts the special tokens first). */
export const CHAR_PAD_ID = 0;

/** Code points of a word (a surrogate pair is one character). */
export function wordChars(word: string): string[] {
  return Array.from(word);
}

/** The `maxWordLen` character ids of a word: its first characters, then [PAD]; unseen characters → [UNK]. */
export function wordCharIds(word: string, vocab: Vocab, maxWordLen: number): number[] {
  const ids = new Array<number>(maxWordLen).fill(vocab.padId);
  wordChars(word)
    .slice(0, maxWordLen)
    .forEach((c, i) => (ids[i] = vocab.id(c)));
  return ids;
}

/**
 * The character ids of a batch of rows as one flat int64 [rows, time, maxWordLen] array (row-major), [PAD]
 * beyond each row's positions: what the libtorch net and the exported graph's `char_ids` input both read.
 */
export function padCharIds(
  rows: readonly (readonly (readonly number[])[])[],
  time: number,
  maxWordLen: number,
  padId: number,
): BigInt64Array {
  const out = new BigInt64Array(rows.length * time * maxWordLen).fill(BigInt(padId));
  rows.forEach((words, r) =>
    words.forEach((ids, t) => ids.forEach((id, c) => (out[(r * time + t) * maxWordLen + c] = BigInt(id)))),
  );
  return out;
}
