/**
 * distill_report.json and distill_report.html: the teacher, the student trained alone and the distilled
 * student side by side — parameters, task metrics on the evaluation split, measured latency and QPS —
 * with what the distillation kept of the teacher's quality and how much faster it made the model.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AnyTask } from '../../tasks/registry.js';
import type { TaskModel } from '../../tasks/task.js';
import { chanceVerdict, chanceWarning } from '../../metrics/chance.js';
import { escapeHtml } from '../../train/report-html.js';
import type { Split } from '../../train/trainer.js';
import { measureSpeeds, type SpeedResult } from './speed.js';
import type { TransformerShape } from './student.js';

export type ModelRole = 'teacher' | 'student_alone' | 'student';

export interface ModelEntry {
  role: ModelRole;
  dir: string;
  shape: TransformerShape;
  parameters: number;
  metrics: Record<string, number>;
  /** Set when the model is at chance on the evaluation split (classification): what to tell the user. */
  at_chance?: string;
  speed: SpeedResult[];
}

export interface StageEntry {
  stage: string;
  dir: string;
  steps: number;
  seconds: number;
  skipped: boolean;
  dev?: Record<string, number>;
  info?: Record<string, unknown>;
}

export interface DistillReport {
  task: string;
  stages: string[];
  evaluated_on: 'test' | 'dev' | 'train';
  /** The metric the comparison is made on (accuracy when the task has it). */
  metric: string;
  models: ModelEntry[];
  comparison: {
    /** Distilled student's metric / teacher's. */
    retained: number;
    /** Distilled student's metric − the student-alone's (absent without that baseline). */
    gain_over_alone?: number;
    /** Teacher latency / student latency, by batch size. */
    speedup: Record<string, number>;
    /** Teacher parameters / student parameters. */
    compression: number;
    /** The teacher has not learnt the task: `retained` compares with chance and claims nothing. */
    teacher_at_chance?: string;
  };
  stage_runs: StageEntry[];
  settings: Record<string, unknown>;
  created: string;
}

export interface ModelToReport {
  role: ModelRole;
  dir: string;
  task: AnyTask;
  model: TaskModel<unknown>;
  shape: TransformerShape;
}

/** Evaluates the models on the evaluation split and times them against each other (interleaved). */
export function measureModels(
  models: readonly ModelToReport[],
  split: Split,
  opts: { batchSizes: number[]; timingExamples: number; evalBatchSize: number },
): ModelEntry[] {
  const timed = models.map((m) => ({ ...m, features: split.examples.map((e) => m.task.encode(e)) }));
  const speeds = opts.batchSizes.map((b) => measureSpeeds(timed, b, opts.timingExamples));
  return timed.map((m, i) => {
    const r = m.task.evaluate(m.model, split.examples, m.features, opts.evalBatchSize);
    const atChance = r.confusion && chanceWarning(chanceVerdict(r.confusion), `the ${m.role}`);
    return {
      role: m.role,
      dir: m.dir,
      shape: m.shape,
      parameters: m.model.numParameters(),
      metrics: r.metrics,
      ...(atChance ? { at_chance: atChance } : {}),
      speed: speeds.map((perModel) => perModel[i]),
    };
  });
}

/** The metric to compare on: accuracy when the task reports it, else the task's own default. */
export function headlineMetric(metrics: Record<string, number>, taskDefault: string): string {
  return 'accuracy' in metrics ? 'accuracy' : taskDefault;
}

export function compareModels(models: ModelEntry[], metric: string): DistillReport['comparison'] {
  const teacher = models.find((m) => m.role === 'teacher')!;
  const student = models.find((m) => m.role === 'student')!;
  const alone = models.find((m) => m.role === 'student_alone');
  const speedup: Record<string, number> = {};
  for (const s of student.speed) {
    const t = teacher.speed.find((x) => x.batch_size === s.batch_size);
    if (t) speedup[String(s.batch_size)] = t.latency_ms / s.latency_ms;
  }
  return {
    retained: student.metrics[metric] / teacher.metrics[metric],
    gain_over_alone: alone ? student.metrics[metric] - alone.metrics[metric] : undefined,
    speedup,
    compression: teacher.parameters / student.parameters,
    ...(teacher.at_chance ? { teacher_at_chance: teacher.at_chance } : {}),
  };
}

export function writeDistillReport(outputDir: string, report: DistillReport): void {
  writeFileSync(path.join(outputDir, 'distill_report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(path.join(outputDir, 'distill_report.html'), renderDistillReport(report));
}

const ROLE_NAMES: Record<ModelRole, string> = {
  teacher: 'teacher',
  student_alone: 'student trained alone',
  student: 'distilled student',
};

const fmt = (v: number | undefined, digits = 4) =>
  v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);

export function renderDistillReport(r: DistillReport): string {
  const metricNames = metricColumns(r);
  const batchSizes = [...new Set(r.models.flatMap((m) => m.speed.map((s) => s.batch_size)))];
  const teacher = r.models.find((m) => m.role === 'teacher');
  const head = [
    'model',
    'layers × hidden (heads, ffn)',
    'parameters',
    ...metricNames,
    ...batchSizes.flatMap((b) => [`latency b${b} (ms)`, `QPS b${b}`]),
    ...batchSizes.map((b) => `speed-up b${b}`),
  ];
  const rows = r.models.map((m) => {
    const speed = (b: number) => m.speed.find((s) => s.batch_size === b);
    const t = (b: number) => teacher?.speed.find((s) => s.batch_size === b);
    return [
      ROLE_NAMES[m.role],
      `${m.shape.layers} × ${m.shape.hidden} (${m.shape.heads}, ${m.shape.ffn})`,
      m.parameters.toLocaleString('en'),
      ...metricNames.map((n) => fmt(m.metrics[n])),
      ...batchSizes.flatMap((b) => [fmt(speed(b)?.latency_ms, 2), fmt(speed(b)?.qps, 1)]),
      ...batchSizes.map((b) => {
        const ts = t(b);
        const ms = speed(b);
        return ts && ms ? `${(ts.latency_ms / ms.latency_ms).toFixed(2)}×` : '–';
      }),
    ];
  });
  const c = r.comparison;
  const summary = [
    c.teacher_at_chance
      ? `<b>Warning: ${escapeHtml(c.teacher_at_chance)}</b>; the student's ${escapeHtml(r.metric)} ` +
        `is ${(100 * c.retained).toFixed(1)}% of a teacher that has not learnt — retrain the teacher first`
      : `The distilled student keeps <b>${(100 * c.retained).toFixed(1)}%</b> of the teacher's ${escapeHtml(r.metric)}`,
    c.gain_over_alone !== undefined
      ? `, ${c.gain_over_alone >= 0 ? '+' : '−'}${Math.abs(c.gain_over_alone).toFixed(4)} against the same student trained alone`
      : '',
    `, with ${c.compression.toFixed(1)}× fewer parameters`,
    Object.entries(c.speedup)
      .map(([b, s]) => `, ${s.toFixed(2)}× faster at batch ${escapeHtml(b)}`)
      .join(''),
    ` (measured on the ${r.evaluated_on} split).`,
  ].join('');
  const stageRows = r.stage_runs.map((s) => [
    s.stage,
    s.skipped ? 'finished earlier' : 'ran',
    String(s.steps),
    s.seconds.toFixed(1),
    s.dev
      ? Object.entries(s.dev)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', ')
      : '–',
    s.info
      ? Object.entries(s.info)
          .map(([k, v]) => `${k}: ${String(v)}`)
          .join('; ')
      : '',
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>alembic distill — ${escapeHtml(r.task)}</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f4f6}
pre{background:#f3f4f6;padding:1rem;overflow:auto}
</style></head><body>
<h1>Model distillation — ${escapeHtml(r.task)}</h1>
<p>Stages: ${r.stages.map(escapeHtml).join(' → ')}</p>
<p>${summary}</p>
${table(head, rows)}
<h2>Stages</h2>
${table(['stage', 'status', 'steps', 'seconds', 'dev', 'notes'], stageRows)}
<h2>Settings</h2>
<pre>${escapeHtml(JSON.stringify(r.settings, null, 2))}</pre>
<p class="muted">${escapeHtml(r.created)}</p>
</body></html>
`;
}

function metricColumns(r: DistillReport): string[] {
  const preferred = [r.metric, 'accuracy', 'macro_f1', 'micro_f1', 'f1'];
  const present = (n: string) => r.models.every((m) => n in m.metrics);
  return [...new Set(preferred.filter(present))];
}

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const trs = rows.map((row) => `<tr>${row.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`);
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs.join('\n')}\n</tbody></table>`;
}
