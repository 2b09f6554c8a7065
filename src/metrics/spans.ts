/**
 * Span-extraction (reading comprehension) metrics: exact match and token F1 as in the SQuAD scorer,
 * maximised over the gold answers of each question and averaged over a dataset.
 *
 * English follows SQuAD v2.0's `normalize_answer`: lowercase, drop ASCII punctuation, drop the articles
 * a/an/the, split on whitespace. Chinese follows the CMRC 2018 / DuReader scorers' idea of character
 * tokens: each Han character is a token, other letter/digit runs are words, punctuation and whitespace
 * are dropped. (CMRC's F1 uses the longest common *substring* of the two token lists; we keep SQuAD's
 * bag-of-tokens overlap for both languages, which agrees whenever the overlap is contiguous, as it
 * nearly always is for extracted spans.)
 *
 * Unanswerable questions (SQuAD 2.0): a question whose gold answers are all empty after normalisation
 * has the single gold answer "", and a prediction scores 1 only if it is empty too.
 */
import { checkSameLength, safeDivide } from './common.js';
import { containsHan, hanCharTokens, overlapCount } from './text.js';

/** 'auto' treats a question as Chinese when its prediction or any gold answer contains a Han character. */
export type AnswerLanguage = 'en' | 'zh' | 'auto';

const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
// Python's `\b(a|an|the)\b` with Unicode word characters (JavaScript's \b is ASCII-only).
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** The tokens an answer is compared by, after language-specific normalisation. */
export function answerTokens(text: string, language: 'en' | 'zh'): string[] {
  if (language === 'zh') return hanCharTokens(text);
  return text
    .toLowerCase()
    .replace(ASCII_PUNCTUATION, '')
    .replace(ARTICLES, ' ')
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

function resolveLanguage(
  language: AnswerLanguage,
  prediction: string,
  golds: readonly string[],
): 'en' | 'zh' {
  if (language !== 'auto') return language;
  return containsHan(prediction) || golds.some(containsHan) ? 'zh' : 'en';
}

/** Gold token lists, keeping only non-empty answers unless every answer is empty (unanswerable). */
function goldTokenLists(golds: readonly string[], language: 'en' | 'zh'): string[][] {
  const lists = golds.map((g) => answerTokens(g, language)).filter((t) => t.length > 0);
  return lists.length > 0 ? lists : [[]];
}

function tokenF1(pred: readonly string[], gold: readonly string[]): number {
  // Either side empty: 1 if both are (correct abstention), else 0 — SQuAD 2.0's rule.
  if (pred.length === 0 || gold.length === 0) return pred.length === gold.length ? 1 : 0;
  const common = overlapCount(pred, gold);
  return safeDivide(2 * common, pred.length + gold.length); // = 2PR/(P+R) with P=c/|pred|, R=c/|gold|
}

/** 1 if the normalised prediction equals any normalised gold answer, else 0. */
export function exactMatch(
  prediction: string,
  golds: readonly string[],
  language: AnswerLanguage = 'auto',
): number {
  const lang = resolveLanguage(language, prediction, golds);
  const pred = answerTokens(prediction, lang).join(' ');
  return goldTokenLists(golds, lang).some((g) => g.join(' ') === pred) ? 1 : 0;
}

/** Best token-overlap F1 of the prediction against any gold answer. */
export function spanF1(
  prediction: string,
  golds: readonly string[],
  language: AnswerLanguage = 'auto',
): number {
  const lang = resolveLanguage(language, prediction, golds);
  const pred = answerTokens(prediction, lang);
  return Math.max(...goldTokenLists(golds, lang).map((g) => tokenF1(pred, g)));
}

export interface SpanScores {
  exactMatch: number;
  f1: number;
  count: number;
}

export interface SpanReport extends SpanScores {
  /** Questions with at least one non-empty gold answer. */
  hasAnswer: SpanScores;
  /** Unanswerable questions. */
  noAnswer: SpanScores;
}

/** Mean EM and F1 (fractions in [0, 1]) over questions, overall and split by answerability. */
export function spanReport(
  predictions: readonly string[],
  answers: readonly (readonly string[])[],
  language: AnswerLanguage = 'auto',
): SpanReport {
  checkSameLength('span scoring', answers, predictions);
  const all = { em: 0, f1: 0, n: 0 };
  const has = { em: 0, f1: 0, n: 0 };
  const no = { em: 0, f1: 0, n: 0 };
  predictions.forEach((p, i) => {
    const golds = answers[i];
    const lang = resolveLanguage(language, p, golds);
    const answerable = goldTokenLists(golds, lang)[0].length > 0;
    const em = exactMatch(p, golds, lang);
    const f1 = spanF1(p, golds, lang);
    for (const acc of [all, answerable ? has : no]) {
      acc.em += em;
      acc.f1 += f1;
      acc.n++;
    }
  });
  const scores = (a: { em: number; f1: number; n: number }): SpanScores => ({
    exactMatch: safeDivide(a.em, a.n),
    f1: safeDivide(a.f1, a.n),
    count: a.n,
  });
  return { ...scores(all), hasAnswer: scores(has), noAnswer: scores(no) };
}
