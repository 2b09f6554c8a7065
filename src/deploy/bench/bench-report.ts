/**
 * The benchmark report as text: the model-only table, the HTTP table and where each network stands against
 * the guide's 1000-QPS rule. A benchmark harness may add its own columns to the model-only table and its own
 * pass/fail checks (`alembic bench` shows neither: they judge alembic, not the user's model).
 */
import type { BenchRuntime, ModelBenchRow } from './model-bench.js';
import type { HttpBenchResult } from './http-bench.js';
import type { LatencySummary } from './stats.js';
import type { BenchReport, ModelGroup } from './run-bench.js';
import { textTable } from '../../util/text-table.js';

/** The guide's rule of thumb: a service that needs more than this many QPS should serve a distilled small net. */
export const DISTIL_QPS = 1000;

export interface BenchCheck {
  what: string;
  pass: boolean;
  /** For a failed check, what this machine reached without alembic in the same run (host floor, a reference). */
  host?: string;
}

/** Extra columns of the model-only table: headers, the cells of one timed row, and lines explaining them. */
export interface ReportColumns {
  headers: string[];
  cells(g: ModelGroup, row: ModelBenchRow): string[];
  notes?: string[];
}

export interface ReportExtras {
  columns?: ReportColumns;
  checks?: (report: BenchReport) => BenchCheck[];
}

export const RUNTIME_NAME: Record<BenchRuntime, string> = {
  libtorch: 'libtorch',
  'onnx-fp32': 'onnx fp32',
  'onnx-int8': 'onnx int8',
};

export function qpsText(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

function ms(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(3);
}

export function modelOnlyQps(g: ModelGroup, runtime: BenchRuntime, batch: number): number | undefined {
  return g.rows.find((r) => r.target.runtime === runtime && r.batch === batch)?.latency.qps;
}

/**
 * What the HTTP figure is compared with: the served directory's model-only QPS at batch 1 — one query
 * per request, as the load test sends them (the server's micro-batching may do better than that).
 */
export function httpBaseline(g: ModelGroup): { qps: number; batch: number } | undefined {
  const rows = g.rows.filter((r) => r.target.dir === g.http!.dir).sort((a, b) => a.batch - b.batch);
  return rows[0] ? { qps: rows[0].latency.qps, batch: rows[0].batch } : undefined;
}

/** The report; `extras` are a benchmark harness's own columns and checks (`npm run bench:deploy`'s). */
export function renderReport(report: BenchReport, extras: ReportExtras = {}): string {
  const extraHeaders = extras.columns?.headers ?? [];
  const blanks = extraHeaders.map(() => '');
  const lines: string[] = [];
  lines.push(
    `alembic deployment benchmark — ${report.cpus} CPUs, ${report.threads} thread(s) per model, ` +
      `load average ${report.load[0].toFixed(2)} → ${report.load[1].toFixed(2)}`,
  );
  if (Math.max(...report.load) > report.cpus)
    lines.push(
      `warning: the machine was busy (load above ${report.cpus}); every figure below is lower than it would be idle`,
    );
  lines.push('', 'Model only (token ids → probabilities; QPS = inputs per second):');
  const rows: string[][] = [];
  for (const g of report.groups) {
    const model = `${g.name} (seq ${g.seq})`;
    for (const r of g.rows) {
      const extra = extras.columns?.cells(g, r) ?? [];
      rows.push([...latencyCells(model, RUNTIME_NAME[r.target.runtime], r.batch, r.latency), ...extra]);
    }
    for (const r of g.sameRun?.rows ?? [])
      rows.push([...latencyCells(model, r.label, r.batch, r.latency), ...blanks]);
  }
  for (const f of report.floor?.model ?? [])
    rows.push([
      ...latencyCells(`host floor (seq ${report.floor!.seq})`, 'empty graph', f.batch, f.latency),
      ...blanks,
    ]);
  lines.push(
    ...textTable(
      ['model', 'runtime', 'batch', 'p50 ms', 'p95 ms', 'p99 ms', 'QPS', ...extraHeaders],
      rows,
      2,
    ),
  );
  lines.push(...(extras.columns?.notes ?? []));
  if (report.floor)
    lines.push(
      '  host floor: a graph that returns its input, fed like the models; no graph runs faster on this machine',
    );
  for (const g of report.groups) for (const note of g.sameRunNotes ?? []) lines.push(`  ${g.name}: ${note}`);
  const httpGroups = report.groups.filter((g) => g.http);
  if (httpGroups.length) {
    const h0 = httpGroups[0].http!.result;
    lines.push(
      '',
      `alembic serve over HTTP (loopback, ${h0.generator}, ${h0.connections} connections, ${h0.textsPerRequest} text(s) per request, tokenisation included):`,
    );
    lines.push(
      ...textTable(
        [
          'model',
          'served',
          'requests',
          'seconds',
          'req/s',
          'texts/s',
          'p50 ms',
          'p99 ms',
          'errors',
          'vs model-only',
        ],
        [
          ...httpGroups.map((g) => {
            const base = httpBaseline(g);
            return httpRow(g.name, RUNTIME_NAME[g.http!.runtime], g.http!.result, base);
          }),
          ...(report.floor?.http ? [httpRow('host floor', 'no model', report.floor.http)] : []),
        ],
        2,
      ),
    );
  }
  const list = extras.checks?.(report) ?? [];
  if (list.length) {
    lines.push('', 'Checks:');
    for (const c of list) {
      lines.push(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.what}`);
      if (c.host) lines.push(`        ${c.host}`);
    }
  }
  lines.push('', `Rule of thumb (guide): above ${qpsText(DISTIL_QPS)} QPS, serve a small distilled net.`);
  for (const g of report.groups) lines.push(`  ${standing(g)}`);
  return lines.join('\n') + '\n';
}

/** The model-only table's first cells: what ran, at which batch, its latency percentiles and QPS. */
function latencyCells(model: string, runtime: string, batch: number, l: LatencySummary): string[] {
  return [model, runtime, String(batch), ms(l.p50), ms(l.p95), ms(l.p99), qpsText(l.qps)];
}

function httpRow(
  name: string,
  served: string,
  h: HttpBenchResult,
  base?: { qps: number; batch: number },
): string[] {
  return [
    name,
    served,
    String(h.requests),
    h.seconds.toFixed(1),
    qpsText(h.requestsPerSecond),
    qpsText(h.textsPerSecond),
    String(h.p50),
    String(h.p99),
    String(h.errors + h.non2xx),
    base ? `${(h.textsPerSecond / base.qps).toFixed(2)}× (batch ${base.batch})` : '',
  ];
}

/** Where one network stands against the 1000-QPS rule: the best batch-1 rate it reached, over HTTP if measured. */
function standing(g: ModelGroup): string {
  const batch1 = g.rows.filter((r) => r.batch === 1 && r.target.runtime !== 'libtorch');
  const best = Math.max(
    0,
    ...(batch1.length ? batch1 : g.rows.filter((r) => r.batch === 1)).map((r) => r.latency.qps),
  );
  const served = g.http?.result.textsPerSecond;
  const figure = served !== undefined ? Math.min(best, served) : best;
  const where =
    served !== undefined
      ? `${qpsText(best)} QPS model-only, ${qpsText(served)} over HTTP`
      : `${qpsText(best)} QPS model-only`;
  return figure >= DISTIL_QPS
    ? `${g.name}: ${where} — serves more than ${qpsText(DISTIL_QPS)} QPS itself (a distillation target)`
    : `${g.name}: ${where} — below ${qpsText(DISTIL_QPS)} QPS: distil it into a faster net for such traffic`;
}
