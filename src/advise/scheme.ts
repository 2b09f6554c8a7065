/**
 * From the constraint rules' outcomes to a scheme: which networks may be served, in what order, and whether
 * a bigger network should be trained as a teacher and distilled into the served one (guide §4.1, §6).
 */
import type { Candidate, CandidateId } from './candidates.js';
import { ALL_CANDIDATE_IDS, byQuality, isTransformer, makeCandidate, qualityRank } from './candidates.js';
import type { Facts, RuleOutcome } from './rules.js';
import { GUIDE_LIMITS } from './guide-limits.js';
import { UserError } from '../util/errors.js';

export interface RankedCandidate extends Candidate {
  /** Why it is in the list, in the guide's terms. */
  why: string;
  /** Served as a distilled student of the scheme's teacher. */
  distilled: boolean;
}

export interface Exclusion {
  id: CandidateId;
  /** 'train': cannot be trained here; 'serve': may be a teacher but is not served. */
  from: 'train' | 'serve';
  rule: string;
}

export interface DistillationPlan {
  method: 'model' | 'data';
  teacher: Candidate;
  student: Candidate;
  /** Unlabelled texts the teacher labels (data distillation). */
  unlabelled: number;
  /** Augmented copies of labelled examples the teacher labels (data distillation, §6.3.2). */
  augmented: number;
  /** Examples the student trains on. */
  studentExamples: number;
}

export interface Scheme {
  /** Networks to serve, best first. The top one is the recommendation; the rest are fallbacks to measure. */
  serve: RankedCandidate[];
  excluded: Exclusion[];
  teacher?: Candidate;
  distillation?: DistillationPlan;
}

const NET_NOTES: Record<CandidateId, string> = {
  bow: 'fastest; ignores word order',
  cnn: 'fast; sees local n-grams',
  gru: 'better than CNN, slower',
  lstm: 'best of the preset nets, slowest of them',
  'transformer-tiny': 'smallest Transformer; the guide’s choice for fast serving',
  'transformer-base': 'pretrained base: between tiny and large',
  'transformer-large': 'pretrained large: best quality, slowest',
};

/** Applies the outcomes' effects to all candidates and orders what may be served. */
export function chooseScheme(facts: Facts, outcomes: readonly RuleOutcome[]): Scheme {
  const all = ALL_CANDIDATE_IDS.map((id) => makeCandidate(id, facts.pretrained));
  const excluded: Exclusion[] = [];
  const noTrain = new Set<CandidateId>();
  const noServe = new Set<CandidateId>();
  const studentOnly = new Map<CandidateId, string>();
  let servingOrder: readonly CandidateId[] | undefined;
  // Training exclusions first: a network that cannot be trained is not also reported as "not served".
  for (const o of outcomes) for (const id of o.noTrain ?? []) mark(noTrain, id, 'train', o.rule);
  for (const o of outcomes) {
    for (const id of o.noServe ?? []) if (!noTrain.has(id)) mark(noServe, id, 'serve', o.rule);
    for (const id of o.studentOnly ?? []) studentOnly.set(id, o.rule);
    servingOrder ??= o.servingOrder;
  }
  function mark(set: Set<CandidateId>, id: CandidateId, from: Exclusion['from'], rule: string) {
    if (set.has(id)) return;
    set.add(id);
    excluded.push({ id, from, rule });
  }

  const trainable = all.filter((c) => !noTrain.has(c.id));
  const teacherFor = (c: Candidate) =>
    trainable
      .filter((t) => isTransformer(t.id) && t.pretrainedDir !== undefined && qualityRank(t) < qualityRank(c))
      .sort(byQuality)[0];

  const ordered = orderForServing(
    trainable.filter((c) => !noServe.has(c.id)),
    servingOrder,
  );
  const servable = ordered.filter((c) => {
    const rule = studentOnly.get(c.id);
    if (rule === undefined || teacherFor(c) !== undefined) return true;
    excluded.push({ id: c.id, from: 'serve', rule });
    return false;
  });
  if (servable.length === 0) {
    const why = [...new Set(excluded.map((e) => e.rule))].join(', ');
    throw new UserError(`${facts.step.name}: no network fits the constraints (ruled out by: ${why})`);
  }
  const teacher = teacherFor(servable[0]);
  const distillation = teacher ? planDistillation(facts, teacher, servable[0]) : undefined;
  const serve = servable.map((c, i) => rank(c, i, teacher !== undefined && i === 0, studentOnly.has(c.id)));
  return distillation ? { serve, excluded, teacher, distillation } : { serve, excluded };
}

/** Quality order (guide §4.2), except that a rule's serving order, when one applies, comes first. */
export function orderForServing(candidates: Candidate[], servingOrder?: readonly CandidateId[]): Candidate[] {
  const byQ = [...candidates].sort(byQuality);
  if (servingOrder === undefined) return byQ;
  const pos = (c: Candidate) => {
    const i = servingOrder.indexOf(c.id);
    return i === -1 ? servingOrder.length : i;
  };
  return byQ
    .map((c, i) => ({ c, i }))
    .sort((a, b) => pos(a.c) - pos(b.c) || a.i - b.i)
    .map(({ c }) => c);
}

/**
 * Model distillation when the student is a Transformer (guide §6.1: teacher outputs teach ERNIE-Tiny, no mass
 * of unlabelled data needed); data distillation otherwise (§6.3: the teacher labels extra text for a small
 * net). Data distillation uses the unlabelled text; when it is scarcer than the labelled data, augmented
 * copies of the labelled data are added (§6.3.2).
 */
export function planDistillation(facts: Facts, teacher: Candidate, student: Candidate): DistillationPlan {
  if (isTransformer(student.id)) {
    return {
      method: 'model',
      teacher,
      student,
      unlabelled: 0,
      augmented: 0,
      studentExamples: facts.labelled,
    };
  }
  const augmented = facts.unlabelled >= facts.labelled ? 0 : facts.labelled * GUIDE_LIMITS.augmentCopies;
  return {
    method: 'data',
    teacher,
    student,
    unlabelled: facts.unlabelled,
    augmented,
    studentExamples: facts.labelled + facts.unlabelled + augmented,
  };
}

function rank(c: Candidate, index: number, distilled: boolean, studentOnly: boolean): RankedCandidate {
  const notes = [NET_NOTES[c.id]];
  if (isTransformer(c.id) && c.pretrainedDir === undefined) {
    notes[0] = `no checkpoint: trained from scratch it needs tens of thousands of examples or more`;
  }
  if (studentOnly) notes.push('served only as a distilled student');
  if (index === 0) notes.unshift('best choice the constraints allow');
  return { ...c, why: notes.join('; '), distilled };
}
