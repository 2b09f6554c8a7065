/**
 * The training report: one self-contained HTML page (inline CSS, inline SVG charts drawn here, no
 * scripts, no external resources) that opens offline. It shows the train loss (raw and smoothed) with
 * the dev loss on the same axes, the dev metrics (every rate — accuracy, F1, AUC … — on one chart with a
 * fixed 0–1 axis, correlations on one −1–1 chart, and only unbounded metrics such as perplexity each on
 * its own scaled axis, so a 3-point wobble looks like one), the best step, a confusion-matrix heat table,
 * a per-label table and the config. All text from the run is HTML-escaped.
 */
import { lowerIsBetter } from '../metrics/direction.js';

export interface ReportInput {
  title: string;
  config: unknown;
  trainLoss: { step: number; value: number }[];
  /** Dev evaluations; the metric named "loss" is drawn with the train loss, the others on the metric charts. */
  evalPoints: { step: number; metrics: Record<string, number> }[];
  /** matrix[gold][predicted] = count, rows and columns in `labels` order. */
  confusion?: { labels: string[]; matrix: number[][] };
  /** One row per label; columns are the keys, in order of first appearance. */
  perLabel?: ReadonlyArray<Readonly<Record<string, string | number>>>;
  notes?: string[];
  /** Shown first, in red: results that mean the model has not learnt (e.g. one class for every input). */
  warnings?: string[];
  /** Where the confusion matrix and per-label table come from, e.g. "dev set, best model (step 400)". */
  evaluatedOn?: string;
  /** Dev metric that picks the best step; default the first metric other than "loss", else "loss". */
  bestMetric?: string;
}

interface Point {
  x: number;
  y: number;
}

interface Series {
  /** Stable id written as data-series on the path, e.g. "train-loss-raw". */
  id: string;
  name: string;
  points: Point[];
  color: string;
  width: number;
  opacity?: number;
  markers?: boolean;
}

const WIDTH = 720;
const HEIGHT = 280;
const MARGIN = { left: 64, right: 20, top: 34, bottom: 40 };
const COLORS = { raw: '#9db7e0', smooth: '#1d4ed8', dev: '#ea580c', best: '#b91c1c' };
/** Dev metric colours, told apart on one chart (Tableau 10 without its red, which marks the best step). */
const METRIC_COLORS = ['#047857', '#1d4ed8', '#ea580c', '#7c3aed', '#a16207', '#db2777', '#0e7490', '#4b5563'];
/** Legend entries are this wide; they wrap onto more rows above the plot. */
const LEGEND_ENTRY = 150;
const LEGEND_ROW = 16;
const DEV_LOSS = 'loss';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * TensorBoard-style debiased exponential moving average. The weight grows with the run length
 * (1 − 5/n, capped at 0.95) so the smoothed curve averages over roughly the last fifth of a short run
 * and about 20 points of a long one. Non-finite values are passed over.
 */
export function smoothCurve(values: readonly number[]): number[] {
  const weight = Math.min(0.95, Math.max(0, 1 - 5 / values.length));
  let ema = 0;
  let seen = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return Number.NaN;
    ema = ema * weight + (1 - weight) * v;
    seen++;
    return ema / (1 - weight ** seen);
  });
}

/** Names of all dev metrics in order of first appearance. */
function metricNames(evalPoints: ReportInput['evalPoints']): string[] {
  const names: string[] = [];
  for (const p of evalPoints) for (const k of Object.keys(p.metrics)) if (!names.includes(k)) names.push(k);
  return names;
}

/** The step with the best value of the chosen metric (earliest on ties), or undefined if none. */
export function findBest(
  evalPoints: ReportInput['evalPoints'],
  bestMetric?: string,
): { metric: string; step: number; value: number } | undefined {
  const names = metricNames(evalPoints);
  const metric = bestMetric ?? names.find((n) => n !== DEV_LOSS) ?? names[0];
  if (metric === undefined) return undefined;
  const sign = lowerIsBetter(metric) ? -1 : 1;
  let best: { metric: string; step: number; value: number } | undefined;
  for (const p of evalPoints) {
    const v = p.metrics[metric];
    if (Number.isFinite(v) && (best === undefined || sign * v > sign * best.value))
      best = { metric, step: p.step, value: v };
  }
  return best;
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return abs >= 1000 || abs < 1e-3 ? v.toPrecision(4) : String(Number(v.toFixed(4)));
}

/** About `count` round tick values (steps of 1, 2 or 5 × 10^k) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count = 5): number[] {
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function extent(values: number[], pad: number): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    const d = Math.abs(lo) * 0.1 || 1;
    return [lo - d, hi + d];
  }
  const p = (hi - lo) * pad;
  lo -= p;
  hi += p;
  return [lo, hi];
}

/** An SVG path through the finite points, starting a new sub-path after any gap. */
function pathData(points: Point[], sx: (x: number) => number, sy: (y: number) => number): string {
  const parts: string[] = [];
  let pen = 'M';
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      pen = 'M';
      continue;
    }
    parts.push(`${pen}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
    pen = 'L';
  }
  return parts.join(' ');
}

/** A line chart with axes, grid, legend and an optional vertical marker at the best step. */
function lineChart(
  title: string,
  series: Series[],
  best?: { step: number; label: string },
  yRange?: readonly [number, number],
): string {
  const all = series.flatMap((s) => s.points);
  const [x0, x1] = extent(
    all.map((p) => p.x),
    0,
  );
  const [y0, y1] =
    yRange ??
    extent(
      all.map((p) => p.y),
      0.05,
    );
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const perRow = Math.max(1, Math.floor(plotW / LEGEND_ENTRY));
  const extraRows = Math.max(0, Math.ceil(series.length / perRow) - 1);
  const top = MARGIN.top + extraRows * LEGEND_ROW;
  const height = HEIGHT + extraRows * LEGEND_ROW;
  const plotH = height - top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const sy = (y: number) => top + (1 - (y - y0) / (y1 - y0)) * plotH;
  const out: string[] = [
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeHtml(title)}">`,
  ];
  for (const t of niceTicks(y0, y1)) {
    const y = sy(t).toFixed(1);
    out.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}"/>`);
    out.push(
      `<text class="tick" x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dy="0.32em">${formatNumber(t)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1)) {
    const x = sx(t).toFixed(1);
    out.push(`<line class="grid" x1="${x}" x2="${x}" y1="${top}" y2="${height - MARGIN.bottom}"/>`);
    out.push(
      `<text class="tick" x="${x}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${formatNumber(t)}</text>`,
    );
  }
  out.push(
    `<rect class="frame" x="${MARGIN.left}" y="${top}" width="${plotW}" height="${plotH}"/>`,
    `<text class="axis" x="${MARGIN.left + plotW / 2}" y="${height - 6}" text-anchor="middle">step</text>`,
  );
  if (best && best.step >= x0 && best.step <= x1) {
    const x = sx(best.step).toFixed(1);
    out.push(
      `<line class="best" x1="${x}" x2="${x}" y1="${top}" y2="${height - MARGIN.bottom}" stroke="${COLORS.best}"/>`,
      `<text class="tick" x="${x}" y="${top - 4}" text-anchor="middle" fill="${COLORS.best}">${escapeHtml(best.label)}</text>`,
    );
  }
  for (const s of series) {
    const opacity = s.opacity === undefined ? '' : ` stroke-opacity="${s.opacity}"`;
    out.push(
      `<path data-series="${escapeHtml(s.id)}" d="${pathData(s.points, sx, sy)}" fill="none" stroke="${s.color}" stroke-width="${s.width}"${opacity}/>`,
    );
    if (s.markers) {
      for (const p of s.points.filter((q) => Number.isFinite(q.y))) {
        out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
      }
    }
  }
  series.forEach((s, i) => {
    const x = MARGIN.left + 8 + (i % perRow) * LEGEND_ENTRY;
    const y = 14 + Math.floor(i / perRow) * LEGEND_ROW;
    out.push(
      `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="3"/>`,
      `<text class="legend" x="${x + 24}" y="${y}" dy="0.32em">${escapeHtml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

function lossChart(input: ReportInput, best?: { step: number; label: string }): string {
  const raw = input.trainLoss.map((p) => ({ x: p.step, y: p.value }));
  const smoothed = smoothCurve(raw.map((p) => p.y)).map((y, i) => ({ x: raw[i].x, y }));
  const series: Series[] = [
    { id: 'train-loss-raw', name: 'train loss', points: raw, color: COLORS.raw, width: 1 },
    {
      id: 'train-loss-smoothed',
      name: 'train loss (smoothed)',
      points: smoothed,
      color: COLORS.smooth,
      width: 2,
    },
  ];
  const dev = input.evalPoints
    .filter((p) => DEV_LOSS in p.metrics)
    .map((p) => ({ x: p.step, y: p.metrics[DEV_LOSS] }));
  if (dev.length > 0)
    series.push({
      id: 'dev-loss',
      name: 'dev loss',
      points: dev,
      color: COLORS.dev,
      width: 2,
      markers: true,
    });
  return lineChart('loss', series, best);
}

/** Correlations (Pearson, Spearman, Kendall) live in [−1, 1]. */
const CORRELATION_NAME = /pearson|spearman|kendall|correlation/i;

/**
 * The dev metrics, as few charts as their scales allow: every rate on one chart with a fixed 0–1 axis,
 * correlations on one −1–1 chart, and each unbounded metric (perplexity, mse, …) on its own scaled axis.
 * Series ids are `dev-metric-<i>` in order of first appearance, whichever chart holds them.
 */
function metricCharts(input: ReportInput, best?: { step: number; label: string }): string {
  const series = metricNames(input.evalPoints)
    .filter((name) => name !== DEV_LOSS)
    .map((name, i): Series & { metric: string } => ({
      metric: name,
      id: `dev-metric-${i}`,
      name: `${name} ${lowerIsBetter(name) ? '↓' : '↑'}`,
      points: input.evalPoints
        .filter((p) => name in p.metrics)
        .map((p) => ({ x: p.step, y: p.metrics[name] })),
      color: METRIC_COLORS[i % METRIC_COLORS.length],
      width: 2,
      markers: true,
    }));
  const inRange = (s: Series, lo: number, hi: number) => s.points.every((p) => !(p.y < lo || p.y > hi));
  const rates = series.filter((s) => isRate(s.metric, s.points));
  const correlations = series.filter(
    (s) => !rates.includes(s) && CORRELATION_NAME.test(s.metric) && inRange(s, -1, 1),
  );
  const charts: { title: string; caption: string; series: Series[]; range?: readonly [number, number] }[] = [];
  const names = (list: typeof series) => list.map((s) => s.metric).join(', ');
  if (rates.length > 0)
    charts.push({ title: 'rates', caption: `${names(rates)} (shared axis 0–1)`, series: rates, range: [0, 1] });
  if (correlations.length > 0)
    charts.push({
      title: 'correlations',
      caption: `${names(correlations)} (shared axis −1–1)`,
      series: correlations,
      range: [-1, 1],
    });
  for (const s of series.filter((x) => !rates.includes(x) && !correlations.includes(x)))
    charts.push({ title: s.metric, caption: `${s.metric} (its own axis)`, series: [s] });
  const legend = '<span class="muted">↑ higher is better, ↓ lower is better</span>';
  return charts
    .map(
      (c) =>
        `<figure><figcaption>${escapeHtml(c.caption)} ${legend}</figcaption>\n${lineChart(c.title, c.series, best, c.range)}</figure>`,
    )
    .join('\n');
}

const RATE_NAME = /acc|f1|precision|recall|auc|exact|^em$|rouge|bleu|ndcg|mrr|map|correct/i;

/** A metric that is a share or score in [0, 1] (accuracy, F1, AUC, …), by name and by its values. */
export function isRate(name: string, points: readonly Point[]): boolean {
  return RATE_NAME.test(name) && points.every((p) => !(p.y < 0 || p.y > 1));
}

function confusionTable(confusion: NonNullable<ReportInput['confusion']>): string {
  const { labels, matrix } = confusion;
  const head = labels.map((l) => `<th class="pred">${escapeHtml(l)}</th>`).join('');
  const rows = matrix.map((row, g) => {
    const total = row.reduce((s, v) => s + v, 0);
    const cells = row.map((count, p) => {
      // Shade by the share of this gold class's items: a dark row-off-diagonal cell is a systematic confusion.
      const share = total === 0 ? 0 : count / total;
      const tip = `gold ${labels[g] ?? g} → predicted ${labels[p] ?? p}: ${count} (${(share * 100).toFixed(1)}%)`;
      const classes = [g === p ? 'diag' : '', share > 0.55 ? 'dark' : ''].filter(Boolean).join(' ');
      const cls = classes ? ` class="${classes}"` : '';
      return `<td${cls} style="background:rgba(29,78,216,${share.toFixed(3)})" title="${escapeHtml(tip)}">${count}</td>`;
    });
    return `<tr><th>${escapeHtml(labels[g] ?? String(g))}</th>${cells.join('')}<td class="total">${total}</td></tr>`;
  });
  return [
    '<table class="confusion">',
    `<thead><tr><th class="corner">gold \\ predicted</th>${head}<th>total</th></tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

function perLabelTable(rows: NonNullable<ReportInput['perLabel']>): string {
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const cell = (v: string | number | undefined) =>
    typeof v === 'number' ? `<td class="num">${formatNumber(v)}</td>` : `<td>${escapeHtml(v ?? '')}</td>`;
  return [
    '<table class="per-label">',
    `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`,
    `<tbody>\n${rows.map((r) => `<tr>${columns.map((c) => cell(r[c])).join('')}</tr>`).join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

const HOW_TO_READ = `<p class="help">How to read the curves: the train loss should fall quickly, then flatten; the
smoothed line shows the trend through the batch-to-batch noise. If the train loss keeps falling while the dev loss
turns upward (and the dev metrics stop improving or drop), the model is <b>over-fitting</b> — it memorises the
training set; keep the checkpoint from the best step, stop earlier, or add dropout, weight decay or data. If both
losses stay high and flat, the model is <b>under-fitting</b> — try a larger learning rate, more steps, or a bigger
model. A train loss that jumps or becomes n/a usually means the learning rate is too high.</p>`;

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif;
  color: #1f2937; max-width: 980px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #e5e7eb; }
.muted { color: #6b7280; font-weight: normal; }
figure { margin: 12px 0 20px; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; background: #fff; }
.grid { stroke: #eef0f3; } .frame { fill: none; stroke: #c7cbd1; }
.tick, .legend, .axis { font-size: 11px; fill: #4b5563; } .best { stroke-dasharray: 4 3; }
.help { background: #f8fafc; border-left: 3px solid #93c5fd; padding: 8px 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #e5e7eb; padding: 3px 8px; } th { background: #f9fafb; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.confusion td { text-align: right; min-width: 36px; font-variant-numeric: tabular-nums; }
table.confusion td.diag { outline: 2px solid #1d4ed8; outline-offset: -2px; }
table.confusion td.dark { color: #fff; } table.confusion td.total { background: #f9fafb; color: #6b7280; }
th.pred { max-width: 90px; overflow-wrap: anywhere; text-align: center; }
.warning { background: #fee2e2; border: 2px solid #b91c1c; color: #7f1d1d; padding: 10px 14px; }
pre { background: #f6f8fa; padding: 12px; overflow-x: auto; font-size: 12px; }
`;

function configText(config: unknown): string {
  if (config === undefined) return '(none)';
  return JSON.stringify(config, null, 2) ?? String(config);
}

/** The whole report page as one HTML string. */
export function renderReport(input: ReportInput): string {
  const best = findBest(input.evalPoints, input.bestMetric);
  const marker = best && { step: best.step, label: `best @ ${best.step}` };
  const lastLoss = input.trainLoss[input.trainLoss.length - 1];
  const summary: string[] = [];
  if (best) {
    summary.push(`best dev ${escapeHtml(best.metric)} = ${formatNumber(best.value)} at step ${best.step}`);
  }
  if (lastLoss) summary.push(`final train loss ${formatNumber(lastLoss.value)} at step ${lastLoss.step}`);
  const sections: string[] = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(input.title)}</h1>`,
    ...(input.warnings ?? []).map((w) => `<p class="warning"><b>Warning:</b> ${escapeHtml(w)}</p>`),
    `<p class="muted">${summary.join(' · ') || 'no training steps recorded'}</p>`,
  ];
  if (input.notes && input.notes.length > 0) {
    sections.push(`<ul class="notes">${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
  }
  sections.push('<h2>Loss</h2>');
  if (input.trainLoss.length > 0 || input.evalPoints.some((p) => DEV_LOSS in p.metrics)) {
    sections.push(`<figure>${lossChart(input, marker)}</figure>`);
  } else sections.push('<p class="muted">No loss values were logged.</p>');
  sections.push(HOW_TO_READ);
  if (input.evalPoints.length > 0) sections.push('<h2>Dev metrics</h2>', metricCharts(input, marker));
  const from = input.evaluatedOn ? `<p class="muted">${escapeHtml(`On the ${input.evaluatedOn}.`)}</p>` : '';
  if (input.confusion) sections.push('<h2>Confusion matrix</h2>', from, confusionTable(input.confusion));
  if (input.perLabel && input.perLabel.length > 0)
    sections.push('<h2>Per label</h2>', from, perLabelTable(input.perLabel));
  sections.push(
    '<h2>Config</h2>',
    `<pre>${escapeHtml(configText(input.config))}</pre>`,
    '</body>',
    '</html>',
    '',
  );
  return sections.join('\n');
}
