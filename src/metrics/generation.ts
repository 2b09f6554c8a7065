/**
 * Text-generation metrics: corpus and sentence BLEU (sacreBLEU-compatible), ROUGE-L, and perplexity.
 *
 * BLEU follows sacreBLEU 2.x's corpus_bleu defaults: '13a' tokenizer, case-sensitive, n-grams up to 4,
 * clipped counts against the maximum over references, brevity penalty from the closest reference
 * length (shorter on ties), and smoothing 'exp' (mteval-v13a: the k-th n-gram order with no match gets
 * precision 1/(2^k · total)). 'exp' only changes anything when some order has zero matches, so on any
 * realistic corpus it equals unsmoothed BLEU; 'none' is available for strict Papineni et al. BLEU.
 * Scores are on sacreBLEU's 0–100 scale.
 *
 * Sentence BLEU uses add-one smoothing (Lin & Och 2004, sacreBLEU's smooth_method='add-k', k=1: add 1
 * to matches and totals of n-gram orders 2..4) because a single short sentence very often has no
 * matching 4-gram, which would make its unsmoothed BLEU 0.
 */
import { UserError } from '../util/errors.js';
import { bleuTokens, pyRstrip, type BleuTokenizer } from './bleu-tokenizers.js';
import { checkSameLength, safeDivide } from './common.js';
import { containsHan, hanCharTokens } from './text.js';

export type { BleuTokenizer } from './bleu-tokenizers.js';

export type BleuSmoothing = 'exp' | 'none' | 'floor' | 'add-k';

export interface BleuOptions {
  /** '13a' (default), 'zh' for Chinese (each character a token, as sacreBLEU -tok zh), or 'none'. */
  tokenize?: BleuTokenizer;
  lowercase?: boolean;
  smooth?: BleuSmoothing;
  /** For 'floor' (default 0.1) and 'add-k' (default 1), as sacreBLEU. */
  smoothValue?: number;
  maxOrder?: number;
  /** Average only over the n-gram orders the hypothesis has (sacreBLEU's use_effective_order). */
  effectiveOrder?: boolean;
}

export interface BleuResult {
  /** 0–100. */
  score: number;
  /** Matched n-grams per order (1..maxOrder), before smoothing. */
  counts: number[];
  /** Hypothesis n-grams per order. */
  totals: number[];
  /** Per-order precisions on the 0–100 scale, after smoothing. */
  precisions: number[];
  brevityPenalty: number;
  /** Hypothesis tokens. */
  sysLen: number;
  /** Closest-reference tokens, summed over segments. */
  refLen: number;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothing, number> = { exp: 0, none: 0, floor: 0.1, 'add-k': 1 };

/** sacreBLEU's log, which maps a zero precision to a huge negative number instead of -Infinity. */
function logOrFloor(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/** Counts of the n-grams of each order: result[n - 1] maps "w1 w2 … wn" to its count. */
function ngramCounts(tokens: readonly string[], maxOrder: number): Map<string, number>[] {
  const byOrder: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      // Tokens never contain a space (tokenisers split on whitespace), so joining by one is unambiguous.
      const key = tokens.slice(i, i + n).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    byOrder.push(counts);
  }
  return byOrder;
}

/** The reference length closest to the hypothesis length; the shorter one on a tie. */
function closestRefLength(hypLen: number, refLens: readonly number[]): number {
  let best = refLens[0];
  for (const len of refLens) {
    const d = Math.abs(hypLen - len);
    const bestD = Math.abs(hypLen - best);
    if (d < bestD || (d === bestD && len < best)) best = len;
  }
  return best;
}

interface BleuStats {
  correct: number[];
  total: number[];
  sysLen: number;
  refLen: number;
}

function segmentStats(hyp: string, refs: readonly string[], opts: Required<BleuOptions>): BleuStats {
  const tok = (s: string) => bleuTokens(pyRstrip(opts.lowercase ? s.toLowerCase() : s), opts.tokenize);
  const hypTokens = tok(hyp);
  const refTokens = refs.map(tok);
  // Clip each hypothesis n-gram by its largest count in any single reference.
  const refCounts = refTokens.map((r) => ngramCounts(r, opts.maxOrder));
  const correct = new Array<number>(opts.maxOrder).fill(0);
  const total = new Array<number>(opts.maxOrder).fill(0);
  ngramCounts(hypTokens, opts.maxOrder).forEach((counts, n) => {
    for (const [gram, c] of counts) {
      const maxInRef = Math.max(0, ...refCounts.map((r) => r[n].get(gram) ?? 0));
      total[n] += c;
      correct[n] += Math.min(c, maxInRef);
    }
  });
  return {
    correct,
    total,
    sysLen: hypTokens.length,
    refLen: closestRefLength(
      hypTokens.length,
      refTokens.map((r) => r.length),
    ),
  };
}

/** sacreBLEU's BLEU.compute_bleu on summed statistics. */
function bleuFromStats(stats: BleuStats, opts: Required<BleuOptions>): BleuResult {
  const { sysLen, refLen } = stats;
  const correct = [...stats.correct];
  const total = [...stats.total];
  const brevityPenalty = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(opts.maxOrder).fill(0);
  const result = { counts: stats.correct, totals: stats.total, precisions, brevityPenalty, sysLen, refLen };
  // No matching n-gram of any order: BLEU is 0 whatever the smoothing (sacreBLEU issue #141).
  if (correct.every((c) => c === 0)) return { score: 0, ...result };
  let smoothMteval = 1;
  let order = opts.maxOrder;
  for (let n = 1; n <= opts.maxOrder; n++) {
    if (opts.smooth === 'add-k' && n > 1) {
      correct[n - 1] += opts.smoothValue;
      total[n - 1] += opts.smoothValue;
    }
    if (total[n - 1] === 0) break;
    if (opts.effectiveOrder) order = n;
    if (correct[n - 1] > 0) precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1];
    else if (opts.smooth === 'exp') {
      smoothMteval *= 2;
      precisions[n - 1] = 100 / (smoothMteval * total[n - 1]);
    } else if (opts.smooth === 'floor') precisions[n - 1] = (100 * opts.smoothValue) / total[n - 1];
  }
  const logMean = precisions.slice(0, order).reduce((s, p) => s + logOrFloor(p), 0) / order;
  return { score: brevityPenalty * Math.exp(logMean), ...result };
}

function withDefaults(
  options: BleuOptions,
  smooth: BleuSmoothing,
  effectiveOrder: boolean,
): Required<BleuOptions> {
  const s = options.smooth ?? smooth;
  const maxOrder = options.maxOrder ?? 4;
  if (!Number.isInteger(maxOrder) || maxOrder < 1)
    throw new UserError(`BLEU: maxOrder must be >= 1, got ${maxOrder}`);
  return {
    tokenize: options.tokenize ?? '13a',
    lowercase: options.lowercase ?? false,
    smooth: s,
    smoothValue: options.smoothValue ?? SMOOTH_DEFAULTS[s],
    maxOrder,
    effectiveOrder: options.effectiveOrder ?? effectiveOrder,
  };
}

/**
 * Corpus BLEU. `referenceStreams` is laid out as in sacreBLEU: one array per reference *set*, each
 * parallel to `hypotheses` (referenceStreams[k][i] is the k-th reference of segment i). With a single
 * reference per segment pass `[references]`.
 */
export function corpusBleu(
  hypotheses: readonly string[],
  referenceStreams: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuResult {
  if (referenceStreams.length === 0) throw new UserError('BLEU: no references given');
  referenceStreams.forEach((stream, k) => checkSameLength(`BLEU reference set ${k}`, stream, hypotheses));
  const opts = withDefaults(options, 'exp', false);
  const sum: BleuStats = {
    correct: new Array<number>(opts.maxOrder).fill(0),
    total: new Array<number>(opts.maxOrder).fill(0),
    sysLen: 0,
    refLen: 0,
  };
  hypotheses.forEach((hyp, i) => {
    const s = segmentStats(
      hyp,
      referenceStreams.map((stream) => stream[i]),
      opts,
    );
    for (let n = 0; n < opts.maxOrder; n++) {
      sum.correct[n] += s.correct[n];
      sum.total[n] += s.total[n];
    }
    sum.sysLen += s.sysLen;
    sum.refLen += s.refLen;
  });
  return bleuFromStats(sum, opts);
}

/** BLEU of one hypothesis against its references, with add-one smoothing and effective order by default. */
export function sentenceBleu(
  hypothesis: string,
  references: readonly string[],
  options: BleuOptions = {},
): BleuResult {
  if (references.length === 0) throw new UserError('sentence BLEU: no references given');
  const opts = withDefaults(options, 'add-k', true);
  return bleuFromStats(segmentStats(hypothesis, references, opts), opts);
}

export interface RougeScore {
  precision: number;
  recall: number;
  f: number;
}

export interface RougeOptions {
  /**
   * 'en' tokenises like Google's rouge-score (lowercase, runs of [a-z0-9] are tokens, everything else
   * separates — note that drops non-ASCII letters); 'zh' makes each Han character a token (rouge-score
   * would drop Chinese entirely); 'auto' (default) picks 'zh' when either text has a Han character.
   */
  language?: 'en' | 'zh' | 'auto';
  /**
   * F-measure weight: F = (1 + β²)PR / (R + β²P). Default 1, rouge-score's F1; Lin (2004) suggests a
   * large β (recall-oriented) for ROUGE-L.
   */
  beta?: number;
}

function rougeTokens(text: string, language: 'en' | 'zh'): string[] {
  if (language === 'zh') return hanCharTokens(text);
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 0);
}

/** Length of the longest common subsequence, O(|a|·|b|) time and O(|b|) memory. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * ROUGE-L of one hypothesis: P = LCS/|hyp|, R = LCS/|ref|, F from β. With several references the
 * one with the best F is reported (rouge-score's score_multi).
 */
export function rougeL(
  hypothesis: string,
  references: string | readonly string[],
  options: RougeOptions = {},
): RougeScore {
  const refs = typeof references === 'string' ? [references] : references;
  if (refs.length === 0) throw new UserError('ROUGE-L: no references given');
  const beta2 = (options.beta ?? 1) ** 2;
  const language = options.language ?? 'auto';
  let best: RougeScore = { precision: 0, recall: 0, f: -1 };
  for (const ref of refs) {
    const lang = language !== 'auto' ? language : containsHan(hypothesis) || containsHan(ref) ? 'zh' : 'en';
    const hyp = rougeTokens(hypothesis, lang);
    const target = rougeTokens(ref, lang);
    const lcs = lcsLength(hyp, target);
    const precision = safeDivide(lcs, hyp.length);
    const recall = safeDivide(lcs, target.length);
    const f = safeDivide((1 + beta2) * precision * recall, recall + beta2 * precision);
    if (f > best.f) best = { precision, recall, f };
  }
  return best;
}

/** Mean ROUGE-L P/R/F over segments (references[i] holds the reference(s) of hypothesis i). */
export function corpusRougeL(
  hypotheses: readonly string[],
  references: readonly (string | readonly string[])[],
  options: RougeOptions = {},
): RougeScore {
  checkSameLength('ROUGE-L', references, hypotheses);
  const scores = hypotheses.map((h, i) => rougeL(h, references[i], options));
  const mean = (pick: (s: RougeScore) => number) =>
    safeDivide(
      scores.reduce((s, x) => s + pick(x), 0),
      scores.length,
    );
  return { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f: mean((s) => s.f) };
}

/** exp(total negative log-likelihood in nats / number of tokens scored). */
export function perplexity(totalNll: number, tokenCount: number): number {
  if (!(tokenCount > 0))
    throw new UserError(`perplexity: needs at least one scored token, got ${tokenCount}`);
  if (!Number.isFinite(totalNll) || totalNll < 0) {
    throw new UserError(`perplexity: total negative log-likelihood must be finite and >= 0, got ${totalNll}`);
  }
  return Math.exp(totalNll / tokenCount);
}
