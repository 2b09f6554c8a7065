/**
 * Starts a token-predicting output layer at the training targets' unigram distribution: its bias set to
 * log p(token), add-one smoothed, while the rest of its logits start near zero. From the usual uniform
 * start a vocabulary of thousands (Chinese characters) costs Adam hundreds to thousands of steps — each
 * step moves a bias by about the learning rate — before the model even knows which tokens are frequent;
 * a short run on a small corpus then ends worse than a unigram count. From the prior the first steps
 * learn context instead. (Karpathy's "init well" advice for classifiers, applied to the vocabulary.)
 */
import { fromTyped } from '../engine/create.js';
import { noGrad, tidy } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';

/** Counts of each id in `sequences` (ids < vocabSize), as the prior's input. */
export function tokenCounts(sequences: Iterable<readonly number[]>, vocabSize: number): Float64Array {
  const counts = new Float64Array(vocabSize);
  for (const ids of sequences) for (const id of ids) counts[id]++;
  return counts;
}

/** Sets `bias` [V] to log((count + 1) / (total + V)) of each token. */
export function setUnigramBias(bias: Tensor, counts: Float64Array): void {
  const total = counts.reduce((s, c) => s + c, 0) + counts.length;
  const logp = Float32Array.from(counts, (c) => Math.log((c + 1) / total));
  noGrad(() => tidy(() => void bias.copy_(fromTyped(logp, [logp.length], 'float32').to(bias.dtype))));
}
