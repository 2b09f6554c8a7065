/**
 * From measured candidates to a decision: which meet the spec's constraints, which are on the
 * accuracy-vs-speed Pareto frontier, and which to serve — the cheapest that meets every constraint, or,
 * when none does, "distil the accurate one into the fast one" (guide §4.1.1, §6).
 *
 * Speed is the throughput of one serving machine at batch 32 (the service batches concurrent requests);
 * latency is the time of one request alone (batch 1). The spec's QPS is for all serving machines together,
 * so each machine must reach qps / machines.
 */
import type { CandidateId } from './candidates.js';
import { isTransformer } from './candidates.js';
import { fmt } from './spec.js';

/** One candidate, trained briefly and timed on this machine. */
export interface Measured {
  id: CandidateId;
  /** Human name, e.g. "CNN" or "Transformer tiny (pretrained, models/zh-tiny)". */
  name: string;
  /** Advised to serve, or only the advice's teacher. */
  role: 'serve' | 'teacher';
  /** Dev value of the step's metric. */
  value: number;
  /** Requests per second at batch 1 and batch 32 (tokenisation included). */
  qpsBatch1: number;
  qpsBatch32: number;
  /** Milliseconds per request at batch 1. */
  latencyMs: number;
  parameters: number;
  steps: number;
  trainSeconds: number;
  modelDir: string;
}

export interface Targets {
  metric: string;
  lowerIsBetter: boolean;
  /** The spec's accuracy target for `metric`. */
  accuracy?: number;
  /** The spec's QPS (all machines) and what one machine must serve. */
  qps?: number;
  machines: number;
  qpsPerMachine?: number;
  latencyMs?: number;
}

export interface ParetoRow extends Measured {
  meetsAccuracy: boolean;
  meetsQps: boolean;
  meetsLatency: boolean;
  meetsAll: boolean;
  onFrontier: boolean;
  /** Candidates at least as good on both axes and better on one. */
  dominatedBy: CandidateId[];
}

export type Recommendation =
  | { kind: 'serve'; id: CandidateId; text: string }
  | { kind: 'distil'; teacher: string; student: CandidateId; method: 'model' | 'data'; text: string }
  | { kind: 'scale_out'; id: CandidateId; machines: number; text: string }
  | { kind: 'best_effort'; id: CandidateId; text: string };

export function targetsFor(
  metric: string,
  lowerIsBetter: boolean,
  constraints: { qps?: number; latency_ms?: number; accuracy?: { target?: number } },
  machines: number,
): Targets {
  const t: Targets = { metric, lowerIsBetter, machines };
  if (constraints.accuracy?.target !== undefined) t.accuracy = constraints.accuracy.target;
  if (constraints.qps !== undefined) {
    t.qps = constraints.qps;
    t.qpsPerMachine = constraints.qps / machines;
  }
  if (constraints.latency_ms !== undefined) t.latencyMs = constraints.latency_ms;
  return t;
}

/** Whether `a` is at least as good as `b` on the metric (in the metric's direction). */
function atLeastAsAccurate(a: number, b: number, lowerIsBetter: boolean): boolean {
  return lowerIsBetter ? a <= b : a >= b;
}

/** a dominates b: no worse on the metric and on speed, strictly better on one of them. */
export function dominates(a: Measured, b: Measured, lowerIsBetter: boolean): boolean {
  const noWorse = atLeastAsAccurate(a.value, b.value, lowerIsBetter) && a.qpsBatch32 >= b.qpsBatch32;
  const better = a.value !== b.value || a.qpsBatch32 > b.qpsBatch32;
  return noWorse && better;
}

/** The table, fastest first, with constraint checks and the frontier marked. */
export function paretoTable(measured: readonly Measured[], targets: Targets): ParetoRow[] {
  const rows = measured.map((m): ParetoRow => {
    const meetsAccuracy =
      targets.accuracy === undefined || atLeastAsAccurate(m.value, targets.accuracy, targets.lowerIsBetter);
    const meetsQps = targets.qpsPerMachine === undefined || m.qpsBatch32 >= targets.qpsPerMachine;
    const meetsLatency = targets.latencyMs === undefined || m.latencyMs <= targets.latencyMs;
    const dominatedBy = measured
      .filter((o) => o !== m && dominates(o, m, targets.lowerIsBetter))
      .map((o) => o.id);
    return {
      ...m,
      meetsAccuracy,
      meetsQps,
      meetsLatency,
      meetsAll: meetsAccuracy && meetsQps && meetsLatency,
      onFrontier: dominatedBy.length === 0,
      dominatedBy,
    };
  });
  return rows.sort((a, b) => b.qpsBatch32 - a.qpsBatch32);
}

/**
 * The decision:
 *  1. some meet every constraint → serve the cheapest (fastest) of them; with no accuracy target, the most
 *     accurate of them (nothing says how much quality may be traded for speed);
 *  2. some are accurate enough and others fast enough → distil the most accurate into the most accurate of
 *     the fast ones (guide §4.1.1: distillation makes serving possible at some cost in quality);
 *  3. accurate ones exist but none is fast enough → the fastest accurate one on more machines;
 *  4. none is accurate enough → the most accurate fast one (or the most accurate of all), trained fully;
 *     the advice's own teacher, when it could not be measured here, is named as the way up.
 */
export function recommend(
  rows: readonly ParetoRow[],
  targets: Targets,
  unmeasuredTeacher?: string,
): Recommendation {
  if (rows.length === 0) throw new Error('recommend: no measured candidates');
  const better = (a: ParetoRow, b: ParetoRow) =>
    targets.lowerIsBetter ? a.value - b.value : b.value - a.value;
  const fastest = (a: ParetoRow, b: ParetoRow) => b.qpsBatch32 - a.qpsBatch32;
  const m = targets.metric;
  const speedOk = (r: ParetoRow) => r.meetsQps && r.meetsLatency;

  const ok = rows.filter((r) => r.meetsAll);
  if (ok.length > 0) {
    const pick = [...ok].sort(targets.accuracy !== undefined ? fastest : better)[0];
    const why =
      targets.accuracy !== undefined
        ? ok.length > 1
          ? 'the fastest (cheapest to serve) of those that meet every constraint'
          : 'the only one that meets every constraint'
        : 'the most accurate that meets the speed constraints (the spec sets no accuracy target)';
    return {
      kind: 'serve',
      id: pick.id,
      text: `Serve ${pick.name}: ${m} ${num(pick.value)}${targetNote(targets)}, ${fmt(round(pick.qpsBatch32))} QPS per machine${qpsNote(targets)}; ${why}.`,
    };
  }

  const accurate = rows.filter((r) => r.meetsAccuracy).sort(better);
  const fast = rows.filter(speedOk).sort(better);
  if (accurate.length > 0 && fast.length > 0) {
    const teacher = accurate[0];
    const student = fast[0];
    const method = isTransformer(student.id) && isTransformer(teacher.id) ? 'model' : 'data';
    const how =
      method === 'model'
        ? 'model distillation (模型蒸馏): train it on the teacher’s soft labels'
        : 'data distillation (数据蒸馏): let the teacher label unlabelled or augmented text and train the student on it';
    return {
      kind: 'distil',
      teacher: teacher.id,
      student: student.id,
      method,
      text:
        `Distil ${teacher.name} into ${student.name}: ${teacher.name} reaches ${m} ${num(teacher.value)}${targetNote(targets)} ` +
        `but serves ${fmt(round(teacher.qpsBatch32))} QPS per machine${qpsNote(targets)}; ${student.name} is fast enough ` +
        `(${fmt(round(student.qpsBatch32))} QPS) but reaches only ${num(student.value)}. Use ${how}.`,
    };
  }
  if (accurate.length > 0) {
    const pick = [...accurate].sort(fastest)[0];
    if (targets.qps !== undefined && pick.meetsLatency) {
      const machines = Math.ceil(targets.qps / pick.qpsBatch32);
      return {
        kind: 'scale_out',
        id: pick.id,
        machines,
        text:
          `Nothing measured is both accurate and fast enough. Serve ${pick.name} (${m} ${num(pick.value)}) on ` +
          `${machines} machines like this one: ${fmt(round(pick.qpsBatch32))} QPS each for ${fmt(targets.qps)} in all ` +
          `(the spec has ${targets.machines}).`,
      };
    }
    return {
      kind: 'best_effort',
      id: pick.id,
      text:
        `Nothing measured meets the latency target of ${targets.latencyMs} ms; the fastest accurate network is ` +
        `${pick.name} at ${num(pick.latencyMs)} ms per request. Consider a faster serving machine or a smaller network.`,
    };
  }
  const pick = (fast.length > 0 ? fast : [...rows].sort(better))[0];
  const way = unmeasuredTeacher
    ? `, or distil ${unmeasuredTeacher} (the advice's teacher, not measured here) into it`
    : ', or label more data';
  return {
    kind: 'best_effort',
    id: pick.id,
    text:
      `No network reached ${m}${targetNote(targets)} in its brief measured training; the best ` +
      `${fast.length > 0 ? 'of those fast enough' : 'measured'} is ${pick.name} (${num(pick.value)}). ` +
      `Train it fully on all the data (the measurement used a sample and a short run)${way}.`,
  };
}

function targetNote(t: Targets): string {
  if (t.accuracy === undefined) return '';
  return ` (target ${t.lowerIsBetter ? '≤' : '≥'} ${t.accuracy})`;
}

function qpsNote(t: Targets): string {
  return t.qpsPerMachine === undefined ? '' : ` (target ${fmt(round(t.qpsPerMachine))})`;
}

function round(n: number): number {
  return Math.round(n);
}

/** Metric values and milliseconds: 4 significant digits are plenty for a brief measurement. */
export function num(n: number): string {
  return Number(n.toPrecision(4)).toString();
}
