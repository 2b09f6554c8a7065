/**
 * The data-distillation report: the teacher, each student trained on gold data only and each student
 * trained on gold + teacher-labelled data, side by side — quality on the evaluation file and speed at
 * batch 1 on one thread in libtorch and in onnxruntime (with the speed-ups over the teacher). Saved as
 * JSON and as a short text table.
 */
import { SPEED_RUNTIMES, type ModelMeasurement, type SpeedRuntime } from './measure-models.js';
import type { PoolResult } from './pool.js';
import { textTable } from '../../util/text-table.js';

export interface ReportRow {
  /** "teacher", "<student> (gold only)" or "<student> (distilled)". */
  model: string;
  role: 'teacher' | 'gold_only' | 'distilled';
  student?: string;
  measurement: ModelMeasurement;
  /** What the model was trained on, e.g. "gold + augmented + unlabelled". */
  trainedOn: string;
  /** Student QPS ÷ teacher QPS, in each runtime (onnx is the deployment one). */
  speedup: Record<SpeedRuntime, number>;
}

export interface DataDistillReport {
  config: string;
  /** The labelled file the models were evaluated on, and which split it is. */
  evaluatedOn: { file: string; split: 'test' | 'dev' };
  rows: ReportRow[];
  data: {
    gold: number;
    augmented?: { read: number; written: number };
    pool: PoolResult;
    labelled: { lines: number; labels: Record<string, number>; probabilities: boolean };
  };
  /** Distilled minus gold-only, per student: accuracy and macro F1 (absent without a baseline). */
  gains: { student: string; accuracy: number; macro_f1: number }[];
  created: string;
}

export function buildRows(
  teacher: ModelMeasurement,
  students: { name: string; goldOnly?: ModelMeasurement; distilled: ModelMeasurement; trainedOn: string }[],
): ReportRow[] {
  const row = (
    model: string,
    role: ReportRow['role'],
    measurement: ModelMeasurement,
    trainedOn: string,
    student?: string,
  ): ReportRow => ({ model, role, student, measurement, trainedOn, speedup: speedups(measurement, teacher) });
  const rows = [row('teacher', 'teacher', teacher, 'gold')];
  for (const s of students) {
    if (s.goldOnly) rows.push(row(`${s.name} (gold only)`, 'gold_only', s.goldOnly, 'gold', s.name));
    rows.push(row(`${s.name} (distilled)`, 'distilled', s.distilled, s.trainedOn, s.name));
  }
  return rows;
}

function speedups(m: ModelMeasurement, teacher: ModelMeasurement): Record<SpeedRuntime, number> {
  const ratio = (r: SpeedRuntime) => m.speed[r].qps / teacher.speed[r].qps;
  return { libtorch: ratio('libtorch'), onnx: ratio('onnx') };
}

export function gains(rows: ReportRow[]): DataDistillReport['gains'] {
  const out: DataDistillReport['gains'] = [];
  for (const distilled of rows.filter((r) => r.role === 'distilled')) {
    const gold = rows.find((r) => r.role === 'gold_only' && r.student === distilled.student);
    if (!gold) continue;
    const m = distilled.measurement.metrics;
    const g = gold.measurement.metrics;
    out.push({
      student: distilled.student!,
      accuracy: m.accuracy - g.accuracy,
      macro_f1: m.macro_f1 - g.macro_f1,
    });
  }
  return out;
}

/** The text table: one row per model. */
export function formatReport(report: DataDistillReport): string {
  const header = [
    'model',
    'net',
    'trained on',
    'params',
    'accuracy',
    'macro F1',
    'QPS libtorch',
    'QPS onnx',
    'speed-up libtorch',
    'speed-up onnx',
  ];
  const body = report.rows.map((r) => [
    r.model,
    r.measurement.net,
    r.trainedOn,
    formatCount(r.measurement.parameters),
    formatPercent(r.measurement.metrics.accuracy),
    formatPercent(r.measurement.metrics.macro_f1),
    ...SPEED_RUNTIMES.map((rt) => formatQps(r.measurement.speed[rt].qps)),
    ...SPEED_RUNTIMES.map((rt) => formatSpeedup(r.speedup[rt])),
  ]);
  const lines = [
    `data distillation: evaluated on ${report.evaluatedOn.split} (${report.evaluatedOn.file})`,
    'QPS: batch 1, one thread, tokenisation included; libtorch trains the models, onnxruntime serves their fp32 ONNX export',
    ...textTable(header, body, 3),
  ];
  for (const g of report.gains) {
    lines.push(
      `${g.student}: distilled vs gold only: accuracy ${signed(g.accuracy)}, macro F1 ${signed(g.macro_f1)} points`,
    );
  }
  return lines.join('\n') + '\n';
}

export function formatQps(qps: number): string {
  return qps >= 100 ? qps.toFixed(0) : qps.toFixed(1);
}

export function formatSpeedup(x: number): string {
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
}

/** A share as a percentage with two decimals ('-' when absent). */
export function formatPercent(x: number | undefined): string {
  return x === undefined ? '-' : (100 * x).toFixed(2);
}

function signed(x: number): string {
  const points = 100 * x;
  return `${points >= 0 ? '+' : ''}${points.toFixed(2)}`;
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}
