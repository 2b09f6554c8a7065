/**
 * Sequence-labelling metrics: token accuracy and entity (chunk) level precision/recall/F1, with chunk
 * extraction compatible with the CoNLL `conlleval` script.
 *
 * Decoding is conlleval's start/end-of-chunk logic extended with S and E as in seqeval's default
 * (lenient) mode: an I- tag after O or after a chunk of another type starts a new chunk (IOB1-style
 * starts, as conlleval tolerates), and a change of type always closes the open chunk. For well-formed
 * BIO or BIOES sequences this is exactly the intended chunking.
 * Zero-division convention: a ratio with an empty denominator is 0 (see safeDivide in common.ts).
 */
import { UserError } from '../util/errors.js';
import { checkSameLength, meanPRF, prfFromCounts, safeDivide, type PRF } from './common.js';

export type TagScheme = 'BIO' | 'BIOES';

/** A labelled span of tokens; `end` is exclusive. */
export interface Chunk {
  type: string;
  start: number;
  end: number;
}

type Prefix = 'B' | 'I' | 'E' | 'S' | 'O';

/**
 * Prefixes each scheme accepts. BIOES also takes M (middle, the "BMES" spelling common in Chinese NER
 * corpora) as a synonym of I. A tag outside its scheme is an error, never silently read as O.
 */
const PREFIXES: Record<TagScheme, Record<string, Prefix>> = {
  BIO: { B: 'B', I: 'I', O: 'O' },
  BIOES: { B: 'B', I: 'I', M: 'I', E: 'E', S: 'S', O: 'O' },
};

/**
 * Splits "B-PER" into prefix B and type PER at the first hyphen, as conlleval does. A bare prefix
 * ("B", "E" …) is a chunk without a type, as in Chinese word segmentation with B/M/E/S tags.
 */
function parseTag(tag: string, scheme: TagScheme, position: number): { prefix: Prefix; type: string } {
  const dash = tag.indexOf('-');
  const prefix = PREFIXES[scheme][dash < 0 ? tag : tag.slice(0, dash)];
  if (prefix === undefined) {
    throw new UserError(
      `tag ${JSON.stringify(tag)} at position ${position} is not a ${scheme} tag like B-PER or O`,
    );
  }
  return { prefix, type: dash < 0 ? '' : tag.slice(dash + 1) };
}

function endsChunk(prev: Prefix, cur: Prefix, prevType: string, curType: string): boolean {
  if (prev === 'E' || prev === 'S') return true;
  if ((prev === 'B' || prev === 'I') && (cur === 'B' || cur === 'S' || cur === 'O')) return true;
  return prev !== 'O' && prevType !== curType;
}

function startsChunk(prev: Prefix, cur: Prefix, prevType: string, curType: string): boolean {
  if (cur === 'B' || cur === 'S') return true;
  if ((prev === 'E' || prev === 'S' || prev === 'O') && (cur === 'I' || cur === 'E')) return true;
  return cur !== 'O' && prevType !== curType;
}

/** The chunks of one tag sequence, in order of position. */
export function extractChunks(tags: readonly string[], scheme: TagScheme): Chunk[] {
  const chunks: Chunk[] = [];
  let prev: Prefix = 'O';
  let prevType = '';
  let start = -1;
  tags.forEach((tag, i) => {
    const { prefix, type } = parseTag(tag, scheme, i);
    if (start >= 0 && endsChunk(prev, prefix, prevType, type)) {
      chunks.push({ type: prevType, start, end: i });
      start = -1;
    }
    if (startsChunk(prev, prefix, prevType, type)) start = i;
    prev = prefix;
    prevType = type;
  });
  if (start >= 0) chunks.push({ type: prevType, start, end: tags.length });
  return chunks;
}

export interface ChunkTypeMetrics extends PRF {
  type: string;
  /** Gold chunks of this type. */
  support: number;
  /** Predicted chunks of this type. */
  predicted: number;
}

export interface ChunkReport {
  /** Fraction of tokens whose tag is exactly right, O tags included (conlleval's "accuracy"). */
  tokenAccuracy: number;
  goldChunks: number;
  predictedChunks: number;
  correctChunks: number;
  /** Per entity type, sorted by type name. */
  perType: ChunkTypeMetrics[];
  /** From counts pooled over all types (conlleval's overall P/R/F1). */
  micro: PRF;
  /** Mean of per-type scores. */
  macro: PRF;
}

/** Fraction of tokens tagged exactly right over all sentences (0 for no tokens). */
export function tokenAccuracy(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
): number {
  checkSameLength('token accuracy', gold, pred);
  let correct = 0;
  let total = 0;
  gold.forEach((g, s) => {
    checkSameLength(`sentence ${s}`, g, pred[s]);
    total += g.length;
    g.forEach((tag, i) => {
      if (tag === pred[s][i]) correct++;
    });
  });
  return safeDivide(correct, total);
}

/** A chunk counts as correct only when its type, start and end all match a gold chunk. */
export function chunkReport(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  scheme: TagScheme,
): ChunkReport {
  const accuracy = tokenAccuracy(gold, pred);
  const counts = new Map<string, { gold: number; pred: number; correct: number }>();
  const countsOf = (type: string) => {
    let c = counts.get(type);
    if (!c) counts.set(type, (c = { gold: 0, pred: 0, correct: 0 }));
    return c;
  };
  gold.forEach((g, s) => {
    const goldKeys = new Set<string>();
    for (const c of extractChunks(g, scheme)) {
      countsOf(c.type).gold++;
      goldKeys.add(key(c));
    }
    for (const c of extractChunks(pred[s], scheme)) {
      const n = countsOf(c.type);
      n.pred++;
      if (goldKeys.has(key(c))) n.correct++;
    }
  });
  const perType = [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([type, c]) => ({
      type,
      support: c.gold,
      predicted: c.pred,
      ...prfFromCounts(c.correct, c.pred - c.correct, c.gold - c.correct),
    }));
  const total = (pick: (m: ChunkTypeMetrics) => number) => perType.reduce((s, m) => s + pick(m), 0);
  const goldChunks = total((m) => m.support);
  const predictedChunks = total((m) => m.predicted);
  const correctChunks = [...counts.values()].reduce((s, c) => s + c.correct, 0);
  return {
    tokenAccuracy: accuracy,
    goldChunks,
    predictedChunks,
    correctChunks,
    perType,
    micro: prfFromCounts(correctChunks, predictedChunks - correctChunks, goldChunks - correctChunks),
    macro: meanPRF(perType),
  };
}

function key(c: Chunk): string {
  return `${c.start}\t${c.end}\t${c.type}`;
}
