/**
 * Word dropout to [UNK] (Iyyer et al. 2015; Lample et al. 2016): with `vocab.min_freq: 1` every training word
 * is in the vocabulary, so the [UNK] row would never be trained and every unseen word at test time would get
 * its random initial vector. Replacing a few training words by [UNK] teaches that row "some word I do not
 * know". On by default for word-level tokenisers on nets trained from scratch (a character or WordPiece
 * vocabulary rarely meets an unknown unit, and a pretrained [UNK] is already trained); `model.word_dropout`
 * sets the rate for any net. Applied in the word embedding (engine/nn/embedding.ts), in training only.
 */
import type { Embedding } from '../engine/nn/embedding.js';
import { SPECIAL_TOKENS, type Vocab } from '../data/vocab.js';
import type { TextEncoder } from './encoder.js';

/** The default rate for word-level nets. */
export const DEFAULT_WORD_DROPOUT = 0.05;

const WORD_TOKENIZERS: ReadonlySet<string> = new Set(['whitespace', 'words', 'jieba']);

/** What the vocabulary says about the ids word dropout may touch. */
export interface WordDropoutIds {
  unkId: number;
  /** [PAD], [UNK], [CLS], [SEP], [MASK] where the vocabulary has them: never replaced. */
  specialIds: readonly number[];
  /** The (settled) tokenizer type, which decides the default. */
  tokenizer: string;
}

/** The ids of a vocabulary word dropout needs, for a model read with `tokenizer`. */
export function wordDropoutIds(vocab: Vocab, tokenizer: string): WordDropoutIds {
  const specialIds = SPECIAL_TOKENS.map((t) => vocab.tokens.indexOf(t)).filter((i) => i >= 0);
  return { unkId: vocab.unkId, specialIds, tokenizer };
}

/** The rate a model trains with: `model.word_dropout`, else the default for word-level, from-scratch nets. */
export function wordDropoutRate(
  model: { word_dropout?: number; pretrained_dir?: string },
  tokenizer: string,
): number {
  if (model.word_dropout !== undefined) return model.word_dropout;
  return WORD_TOKENIZERS.has(tokenizer) && !model.pretrained_dir ? DEFAULT_WORD_DROPOUT : 0;
}

/** Sets word dropout on the encoder's word embedding (every preset net has exactly one). */
export function setWordDropout(encoder: TextEncoder, p: number, ids: WordDropoutIds): void {
  const table = wordEmbedding(encoder);
  if (!table) return;
  table.tokenDropout = p > 0 ? { p, to: ids.unkId, keep: ids.specialIds } : undefined;
}

function wordEmbedding(encoder: TextEncoder): Embedding | undefined {
  const e = encoder as unknown as { embedding?: Embedding; embeddings?: { word?: Embedding } };
  return e.embedding ?? e.embeddings?.word;
}
