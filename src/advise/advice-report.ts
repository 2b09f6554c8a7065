/**
 * The measured advice as a plain-text Pareto table (for the terminal) and as one self-contained HTML page
 * (inline CSS and SVG, no scripts) with the table, the accuracy-vs-QPS chart and the recommendation.
 */
import { escapeHtml } from '../train/report-html.js';
import type { CandidateId } from './candidates.js';
import { scatterLayout, type ScatterLayout } from './chart.js';
import type { ParetoRow, Recommendation, Targets } from './pareto.js';
import { num } from './pareto.js';
import { CHART_COLORS } from './png.js';
import { fmt } from './spec.js';

export interface MeasureReport {
  name: string;
  source: string;
  step: { index: number; name: string; task: string };
  metric: string;
  lowerIsBetter: boolean;
  targets: Targets;
  machine: { threads: number; cpus: number; servingDevice: 'cpu' | 'gpu' };
  sample: { train: number; dev: number; devFrom: 'file' | 'split' };
  budgetSeconds: number;
  elapsedSeconds: number;
  rows: ParetoRow[];
  skipped: { id: CandidateId; reason: string }[];
  recommendation: Recommendation;
  notes: string[];
  files: { html: string; png: string; json: string; chart: { width: number; height: number } };
}

/** Ids the recommendation names (served model, or teacher and student). */
export function recommendedIds(r: Recommendation): CandidateId[] {
  return r.kind === 'distil' ? [r.student] : [r.id];
}

const yes = (b: boolean) => (b ? 'yes' : 'no');

/** Table rows as cells, the header first; shared by the text and HTML tables. */
function tableCells(report: MeasureReport): string[][] {
  const header = [
    'candidate',
    'role',
    report.metric,
    'QPS b1',
    'QPS b32',
    'ms b1',
    'params',
    'steps',
    'train s',
    `${report.metric} ok`,
    'QPS ok',
    'latency ok',
    'frontier',
  ];
  const rows = report.rows.map((r) => [
    r.id,
    r.role,
    num(r.value),
    fmt(Math.round(r.qpsBatch1)),
    fmt(Math.round(r.qpsBatch32)),
    num(r.latencyMs),
    fmt(r.parameters),
    fmt(r.steps),
    r.trainSeconds.toFixed(1),
    yes(r.meetsAccuracy),
    yes(r.meetsQps),
    yes(r.meetsLatency),
    r.onFrontier ? 'yes' : `no (${r.dominatedBy.join(', ')})`,
  ]);
  return [header, ...rows];
}

export function renderMeasureText(report: MeasureReport): string {
  const cells = tableCells(report);
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => [...row[c]].length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  const out = [
    `MEASURED on this machine (${report.machine.threads} thread(s); step ${report.step.index + 1}: ${report.step.name})`,
    `  trained on a sample of ${fmt(report.sample.train)} examples, ${report.metric} on ${fmt(report.sample.dev)} dev examples ` +
      `(${report.sample.devFrom === 'file' ? 'the dev file' : 'split off the training data'}); ` +
      `${report.elapsedSeconds.toFixed(0)} s of a ${report.budgetSeconds.toFixed(0)} s budget`,
    `  targets: ${targetLine(report.targets)}`,
    '',
    ...cells.map((row) => '  ' + line(row)),
    '',
  ];
  for (const s of report.skipped) out.push(`  not measured: ${s.id}: ${s.reason}`);
  out.push(`RECOMMENDATION`, `  ${report.recommendation.text}`);
  for (const n of report.notes) out.push(`  - ${n}`);
  out.push('', `report: ${report.files.html}`, `chart: ${report.files.png}`, `data: ${report.files.json}`);
  return out.join('\n') + '\n';
}

function targetLine(t: Targets): string {
  const parts = [
    t.accuracy !== undefined
      ? `${t.metric} ${t.lowerIsBetter ? '≤' : '≥'} ${t.accuracy}`
      : `no ${t.metric} target`,
    t.qps !== undefined
      ? `${fmt(t.qps)} QPS on ${t.machines} machine(s) = ${fmt(Math.round(t.qpsPerMachine!))} per machine`
      : 'no QPS target',
  ];
  if (t.latencyMs !== undefined) parts.push(`latency ≤ ${t.latencyMs} ms`);
  return parts.join(' · ');
}

export function renderMeasureHtml(report: MeasureReport): string {
  const layout = scatterLayout(
    report.rows,
    report.targets,
    recommendedIds(report.recommendation),
    report.files.chart,
  );
  const [header, ...rows] = tableCells(report);
  const table =
    `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows
      .map((row, i) => {
        const r = report.rows[i];
        const cls = [r.meetsAll ? 'ok' : '', r.onFrontier ? 'frontier' : ''].filter(Boolean).join(' ');
        return `<tr class="${cls}" data-id="${escapeHtml(r.id)}">${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
      })
      .join('') +
    '</tbody></table>';
  const skipped = report.skipped.length
    ? `<p>Not measured: ${report.skipped.map((s) => `<b>${escapeHtml(s.id)}</b> (${escapeHtml(s.reason)})`).join('; ')}</p>`
    : '';
  const c = CHART_COLORS;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`alembic advise — ${report.name}`)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#111;max-width:1000px}
table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}tr.ok td:first-child{color:${c.meets};font-weight:600}
.rec{border-left:4px solid ${c.recommended};padding:8px 12px;background:#eff6ff}
.legend span{margin-right:16px}.sw{display:inline-block;width:12px;height:12px;border-radius:6px;vertical-align:middle;margin-right:4px}
</style></head><body>
<h1>${escapeHtml(report.name)}: measured candidates</h1>
<p>Step ${report.step.index + 1}: ${escapeHtml(report.step.name)} (${escapeHtml(report.step.task)}) · spec ${escapeHtml(report.source)}<br>
Targets: ${escapeHtml(targetLine(report.targets))}<br>
Sample: ${fmt(report.sample.train)} training and ${fmt(report.sample.dev)} dev examples · ${report.machine.threads} thread(s) of ${report.machine.cpus} CPU(s) ·
${report.elapsedSeconds.toFixed(0)} s of a ${report.budgetSeconds.toFixed(0)} s budget</p>
<div class="rec"><b>Recommendation.</b> ${escapeHtml(report.recommendation.text)}</div>
<h2>Pareto table</h2>${table}${skipped}
<h2>${escapeHtml(report.metric)} vs QPS per machine (batch 32)</h2>
${renderScatterSvg(layout, report.metric)}
<p class="legend"><span><i class="sw" style="background:${c.meets}"></i>meets every constraint</span>
<span><i class="sw" style="background:${c.fails}"></i>misses one</span>
<span><i class="sw" style="border:3px solid ${c.recommended};width:8px;height:8px"></i>recommended</span>
<span style="color:${c.frontier}">— Pareto frontier</span><span style="color:${c.target}">- - targets</span></p>
<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
</body></html>
`;
}

/**
 * The labelled scatter plot (ticks, axis names, point names, targets, frontier). `standalone` adds a white
 * background and an in-picture legend, for the PNG rendered from it (the HTML has its own legend).
 */
export function renderScatterSvg(layout: ScatterLayout, metric: string, standalone = false): string {
  const c = CHART_COLORS;
  const { left, top, right, bottom } = layout.plot;
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [];
  for (const t of layout.xTicks) {
    parts.push(`<line x1="${f(t.at)}" y1="${top}" x2="${f(t.at)}" y2="${bottom}" stroke="${c.grid}"/>`);
    parts.push(`<text x="${f(t.at)}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(t.label)}</text>`);
  }
  for (const t of layout.yTicks) {
    parts.push(`<line x1="${left}" y1="${f(t.at)}" x2="${right}" y2="${f(t.at)}" stroke="${c.grid}"/>`);
    parts.push(`<text x="${left - 8}" y="${f(t.at + 4)}" text-anchor="end">${escapeHtml(t.label)}</text>`);
  }
  parts.push(
    `<path d="M${left},${top}V${bottom}H${right}" fill="none" stroke="${c.axis}" stroke-width="1.5"/>`,
  );
  parts.push(
    `<text x="${(left + right) / 2}" y="${layout.height - 8}" text-anchor="middle">QPS per machine at batch 32 (log scale)</text>`,
    `<text transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(metric)} (dev)</text>`,
  );
  if (standalone) {
    parts.unshift(`<rect width="${layout.width}" height="${layout.height}" fill="#ffffff"/>`);
    const legend: [string, string][] = [
      [c.meets, 'meets every constraint'],
      [c.fails, 'misses one'],
      [c.recommended, 'recommended (ring)'],
      [c.frontier, 'Pareto frontier'],
      [c.target, 'targets (dashed)'],
    ];
    legend.forEach(([color, label], i) => {
      const y = top + 12 + i * 16;
      parts.push(
        `<rect x="${right - 175}" y="${y - 9}" width="10" height="10" fill="${color}"/>`,
        `<text x="${right - 159}" y="${y}">${escapeHtml(label)}</text>`,
      );
    });
  }
  if (layout.qpsTargetX !== undefined) {
    parts.push(
      `<line data-target="qps" x1="${f(layout.qpsTargetX)}" y1="${top}" x2="${f(layout.qpsTargetX)}" y2="${bottom}" stroke="${c.target}" stroke-dasharray="6 4"/>`,
    );
  }
  if (layout.accuracyTargetY !== undefined) {
    parts.push(
      `<line data-target="accuracy" x1="${left}" y1="${f(layout.accuracyTargetY)}" x2="${right}" y2="${f(layout.accuracyTargetY)}" stroke="${c.target}" stroke-dasharray="6 4"/>`,
    );
  }
  if (layout.frontier.length > 1) {
    const d = layout.frontier.map((p, i) => `${i ? 'L' : 'M'}${f(p.x)},${f(p.y)}`).join('');
    parts.push(`<path data-series="frontier" d="${d}" fill="none" stroke="${c.frontier}" stroke-width="2"/>`);
  }
  for (const p of layout.points) {
    if (p.recommended) {
      parts.push(
        `<circle cx="${f(p.x)}" cy="${f(p.y)}" r="11" fill="none" stroke="${c.recommended}" stroke-width="3"/>`,
      );
    }
    parts.push(
      `<circle data-id="${escapeHtml(p.id)}" cx="${f(p.x)}" cy="${f(p.y)}" r="6" fill="${p.meetsAll ? c.meets : c.fails}"/>`,
      `<text x="${f(p.x + 10)}" y="${f(p.y - 10)}">${escapeHtml(p.id)}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" font-size="12" font-family="system-ui,sans-serif">${parts.join('')}</svg>`;
}
