/**
 * The networks the advisor chooses among: alembic's preset nets (BOW, CNN, GRU, LSTM) and the Transformer
 * in three sizes. A Candidate is plain data (net + size + checkpoint) so the measurement step can take the
 * advisor's ranked list and time each entry.
 */
export type NetName = 'bow' | 'cnn' | 'gru' | 'lstm' | 'transformer';
export type ModelSize = 'tiny' | 'base' | 'large';
export type CandidateId =
  'bow' | 'cnn' | 'gru' | 'lstm' | 'transformer-tiny' | 'transformer-base' | 'transformer-large';

export interface Candidate {
  id: CandidateId;
  net: NetName;
  /** Transformers only. */
  size?: ModelSize;
  /** Pretrained checkpoint directory; absent = trained from scratch. */
  pretrainedDir?: string;
}

export const ALL_CANDIDATE_IDS: readonly CandidateId[] = [
  'transformer-large',
  'transformer-base',
  'transformer-tiny',
  'lstm',
  'gru',
  'cnn',
  'bow',
];

export const TRANSFORMER_IDS: readonly CandidateId[] = [
  'transformer-tiny',
  'transformer-base',
  'transformer-large',
];

export function isTransformer(id: CandidateId): boolean {
  return id.startsWith('transformer-');
}

export function sizeOf(id: CandidateId): ModelSize | undefined {
  return isTransformer(id) ? (id.slice('transformer-'.length) as ModelSize) : undefined;
}

export function makeCandidate(id: CandidateId, pretrained: Partial<Record<ModelSize, string>>): Candidate {
  const size = sizeOf(id);
  if (size === undefined) return { id, net: id as NetName };
  const dir = pretrained[size];
  return dir === undefined
    ? { id, net: 'transformer', size }
    : { id, net: 'transformer', size, pretrainedDir: dir };
}

/**
 * Expected quality, best first (guide §4.2): pretrained beats not pretrained (§4.2.1); among pretrained
 * models large > base > tiny (§4.2.2); LSTM > GRU > CNN > BOW (§4.2.1a). The guide's Transformer advice
 * assumes pretraining, so a Transformer without a checkpoint is listed after the preset nets, smallest first
 * (it needs the most data for its size, §4.5.2).
 */
export function qualityRank(c: Candidate): number {
  const PRETRAINED: Record<ModelSize, number> = { large: 0, base: 1, tiny: 2 };
  const PRESET: Partial<Record<NetName, number>> = { lstm: 3, gru: 4, cnn: 5, bow: 6 };
  const SCRATCH: Record<ModelSize, number> = { tiny: 7, base: 8, large: 9 };
  if (c.size === undefined) return PRESET[c.net] ?? 99;
  return c.pretrainedDir !== undefined ? PRETRAINED[c.size] : SCRATCH[c.size];
}

export function byQuality(a: Candidate, b: Candidate): number {
  return qualityRank(a) - qualityRank(b);
}

export function describeCandidate(c: Candidate): string {
  if (c.size === undefined) return c.net.toUpperCase();
  const how = c.pretrainedDir !== undefined ? `pretrained, ${c.pretrainedDir}` : 'from scratch';
  return `Transformer ${c.size} (${how})`;
}
