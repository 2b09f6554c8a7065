/**
 * Padding token-id lists into the tensors an encoder takes, and ordering examples into batches.
 */
import { fromTyped } from '../engine/create.js';
import type { EncoderInput } from './encoder.js';
import type { Rng } from '../util/rng.js';

/** Pads id lists to the longest in the batch: ids int64 [B,T], mask bool [B,T], lengths int64 [B]. */
export function padBatch(
  seqs: readonly (readonly number[])[],
  padId: number,
  typeSeqs?: readonly (readonly number[])[],
): EncoderInput {
  const batch = seqs.length;
  const time = Math.max(1, ...seqs.map((s) => s.length));
  const ids = new BigInt64Array(batch * time).fill(BigInt(padId));
  const mask = new Uint8Array(batch * time);
  const lengths = new BigInt64Array(batch);
  const types = typeSeqs ? new BigInt64Array(batch * time) : undefined;
  seqs.forEach((s, b) => {
    lengths[b] = BigInt(s.length);
    for (let t = 0; t < s.length; t++) {
      ids[b * time + t] = BigInt(s[t]);
      mask[b * time + t] = 1;
      if (types) types[b * time + t] = BigInt(typeSeqs![b][t] ?? 0);
    }
  });
  return {
    ids: fromTyped(ids, [batch, time], 'int64'),
    mask: fromTyped(mask, [batch, time], 'bool'),
    lengths: fromTyped(lengths, [batch], 'int64'),
    typeIds: types ? fromTyped(types, [batch, time], 'int64') : undefined,
  };
}

/** padBatch of encoded texts: segment ids go in when any text of the batch has them (pair input). */
export function padTexts(
  texts: readonly { ids: readonly number[]; typeIds?: readonly number[] }[],
  padId: number,
): EncoderInput {
  const hasTypes = texts.some((t) => t.typeIds);
  return padBatch(
    texts.map((t) => t.ids),
    padId,
    hasTypes ? texts.map((t) => t.typeIds ?? []) : undefined,
  );
}

/** Index batches over `n` items: shuffled with `rng` (training) or in order (evaluation). */
export function batchIndices(n: number, batchSize: number, rng?: Rng): number[][] {
  const order = Array.from({ length: n }, (_, i) => i);
  if (rng) rng.shuffle(order);
  const out: number[][] = [];
  for (let i = 0; i < n; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}
