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

/**
 * The training targets' token counts, the prior's input, taken one target at a time by spelling, before
 * the vocabulary exists (a streamed pass fits both at once): `counts` maps the spellings to ids (unknown
 * ones to [UNK]) and adds one end token per target.
 */
export class TargetTokenCounter {
  private readonly bySpelling = new Map<string, number>();
  private targets = 0;

  add(tokens: readonly string[]): void {
    for (const token of tokens) this.bySpelling.set(token, (this.bySpelling.get(token) ?? 0) + 1);
    this.targets++;
  }

  counts(vocab: { size: number; id(token: string): number }, eos: number): Float64Array {
    const counts = new Float64Array(vocab.size);
    for (const [token, n] of this.bySpelling) counts[vocab.id(token)] += n;
    counts[eos] += this.targets;
    return counts;
  }
}

/** Sets `bias` [V] to log((count + 1) / (total + V)) of each token. */
export function setUnigramBias(bias: Tensor, counts: Float64Array): void {
  const total = counts.reduce((s, c) => s + c, 0) + counts.length;
  const logp = Float32Array.from(counts, (c) => Math.log((c + 1) / total));
  noGrad(() => tidy(() => void bias.copy_(fromTyped(logp, [logp.length], 'float32').to(bias.dtype))));
}
