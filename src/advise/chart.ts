/**
 * Geometry of the accuracy-vs-QPS scatter plot, in pixels, shared by the SVG (advice-report.ts) and the PNG
 * (png.ts) so both pictures agree. QPS runs along a log axis: candidates differ by orders of magnitude.
 */
import type { CandidateId } from './candidates.js';
import type { ParetoRow, Targets } from './pareto.js';

export interface ChartPoint {
  id: CandidateId;
  x: number;
  y: number;
  meetsAll: boolean;
  onFrontier: boolean;
  recommended: boolean;
}

export interface Tick {
  at: number;
  label: string;
}

export interface ScatterLayout {
  width: number;
  height: number;
  plot: { left: number; top: number; right: number; bottom: number };
  points: ChartPoint[];
  xTicks: Tick[];
  yTicks: Tick[];
  /** x of the per-machine QPS target, y of the accuracy target, when the spec sets them. */
  qpsTargetX?: number;
  accuracyTargetY?: number;
  /** The frontier's points from slowest to fastest. */
  frontier: ChartPoint[];
}

export const CHART_SIZE = { width: 640, height: 400 } as const;
const MARGIN = { left: 64, right: 24, top: 24, bottom: 48 };

export function scatterLayout(
  rows: readonly ParetoRow[],
  targets: Targets,
  recommended: readonly CandidateId[],
  size: { width: number; height: number } = CHART_SIZE,
): ScatterLayout {
  const plot = {
    left: MARGIN.left,
    top: MARGIN.top,
    right: size.width - MARGIN.right,
    bottom: size.height - MARGIN.bottom,
  };
  const logs = rows.map((r) => Math.log10(Math.max(r.qpsBatch32, 1e-3)));
  if (targets.qpsPerMachine !== undefined) logs.push(Math.log10(targets.qpsPerMachine));
  const [x0, x1] = padded(Math.min(...logs), Math.max(...logs), 0.5, 0.15);
  const values = rows.map((r) => r.value);
  if (targets.accuracy !== undefined) values.push(targets.accuracy);
  const [vMin, vMax] = [Math.min(...values), Math.max(...values)];
  const [y0, y1] = padded(vMin, vMax, 0.05, 0.1);
  const px = (logQps: number) => plot.left + ((logQps - x0) / (x1 - x0)) * (plot.right - plot.left);
  const py = (v: number) => plot.bottom - ((v - y0) / (y1 - y0)) * (plot.bottom - plot.top);

  const points = rows.map((r, i) => ({
    id: r.id,
    x: px(logs[i]),
    y: py(r.value),
    meetsAll: r.meetsAll,
    onFrontier: r.onFrontier,
    recommended: recommended.includes(r.id),
  }));
  const layout: ScatterLayout = {
    width: size.width,
    height: size.height,
    plot,
    points,
    xTicks: logTicks(x0, x1).map((v) => ({ at: px(Math.log10(v)), label: qpsLabel(v) })),
    yTicks: linearTicks(y0, y1).map((v) => ({ at: py(v), label: String(Number(v.toPrecision(6))) })),
    frontier: points.filter((p) => p.onFrontier).sort((a, b) => a.x - b.x || a.y - b.y),
  };
  if (targets.qpsPerMachine !== undefined) layout.qpsTargetX = px(Math.log10(targets.qpsPerMachine));
  if (targets.accuracy !== undefined) layout.accuracyTargetY = py(targets.accuracy);
  return layout;
}

/** A domain around [lo, hi]: at least `minSpan` wide, with `pad` of the span added on each side. */
function padded(lo: number, hi: number, minSpan: number, pad: number): [number, number] {
  if (hi - lo < minSpan) {
    const mid = (lo + hi) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
  }
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

/** Powers of ten inside [10^lo, 10^hi], with 2× and 5× added when the range spans under two decades. */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const few = hi - lo < 2;
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of few ? [1, 2, 5] : [1]) {
      const v = m * 10 ** k;
      const l = Math.log10(v);
      if (l >= lo && l <= hi) out.push(v);
    }
  }
  return out;
}

/** About five round values (steps of 1, 2 or 5 × 10^k) inside [lo, hi]. */
export function linearTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

function qpsLabel(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Number(v.toPrecision(3)));
}
