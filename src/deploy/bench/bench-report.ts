/**
 * The benchmark report as text: the model-only table, the HTTP table, where each network stands against
 * the guide's 1000-QPS rule and, for the project's own benchmark only, the pass/fail checks.
 */
import { DISTIL_QPS, HTTP_RATIO, REFERENCE_RATIO, referenceQps } from './references.js';
import type { BenchRuntime } from './model-bench.js';
import type { HttpBenchResult } from './http-bench.js';
import type { LatencySummary } from './stats.js';
import type { BenchReport, ModelGroup, SameRunRow } from './run-bench.js';
import { textTable } from '../../util/text-table.js';

export interface BenchCheck {
  what: string;
  pass: boolean;
  /** For a failed check, what this machine reached without alembic in the same run (host-floor.ts, PyTorch's export). */
  host?: string;
}

const RUNTIME_NAME: Record<BenchRuntime, string> = {
  libtorch: 'libtorch',
  'onnx-fp32': 'onnx fp32',
  'onnx-int8': 'onnx int8',
};

function qpsText(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

function ms(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(3);
}

function modelOnlyQps(g: ModelGroup, runtime: BenchRuntime, batch: number): number | undefined {
  return g.rows.find((r) => r.target.runtime === runtime && r.batch === batch)?.latency.qps;
}

/** The same-run reference's QPS for a runtime (PyTorch's export, or onnxruntime's int8 of it) and batch. */
function sameRunQps(g: ModelGroup, runtime: BenchRuntime, batch: number): number | undefined {
  return g.sameRun?.rows.find((r) => r.runtime === runtime && r.batch === batch)?.latency.qps;
}

const SAME_RUN_NAME: Record<SameRunRow['runtime'], string> = {
  'onnx-fp32': 'the PyTorch-exported graph',
  'onnx-int8': "onnxruntime's quantize_dynamic of the PyTorch-exported graph",
};

export function checks(report: BenchReport): BenchCheck[] {
  const out: BenchCheck[] = [];
  for (const g of report.groups) {
    for (const r of g.rows) {
      const ref = referenceQps(g.net, g.model, g.seq, r.target.runtime, r.batch);
      if (!ref) continue;
      const ratio = r.latency.qps / ref.qps;
      const pass = ratio >= REFERENCE_RATIO;
      out.push({
        what: `${g.name} ${RUNTIME_NAME[r.target.runtime]} batch ${r.batch}: ${qpsText(r.latency.qps)} QPS = ${ratio.toFixed(2)}× the reference ${qpsText(ref.qps)} (needs ≥ ${REFERENCE_RATIO})`,
        pass,
        ...(pass ? {} : hostNote(report, g, r.target.runtime, r.batch, ref.qps)),
      });
    }
    for (const r of g.rows) {
      const runtime = r.target.runtime;
      const same = sameRunQps(g, runtime, r.batch);
      if (same === undefined || runtime === 'libtorch') continue;
      const ratio = r.latency.qps / same;
      out.push({
        what: `${g.name} ${RUNTIME_NAME[runtime]} batch ${r.batch}: ${ratio.toFixed(2)}× ${SAME_RUN_NAME[runtime]} timed in the same run (${qpsText(same)} QPS; needs ≥ ${REFERENCE_RATIO})`,
        pass: ratio >= REFERENCE_RATIO,
      });
    }
    const torch1 = modelOnlyQps(g, 'libtorch', 1);
    const onnx1 = modelOnlyQps(g, 'onnx-fp32', 1) ?? modelOnlyQps(g, 'onnx-int8', 1);
    if (torch1 !== undefined && onnx1 !== undefined) {
      out.push({
        what: `${g.name}: onnxruntime beats libtorch at batch 1 (${qpsText(onnx1)} vs ${qpsText(torch1)} QPS)`,
        pass: onnx1 > torch1,
      });
    }
    if (g.http) {
      const base = httpBaseline(g);
      if (base) {
        const ratio = g.http.result.textsPerSecond / base.qps;
        const pass = ratio >= HTTP_RATIO && g.http.result.errors === 0 && g.http.result.non2xx === 0;
        const floor = report.floor?.http;
        out.push({
          what: `${g.name}: alembic serve sustains ${qpsText(g.http.result.textsPerSecond)} texts/s over HTTP = ${ratio.toFixed(2)}× the model-only ${qpsText(base.qps)} QPS at batch ${base.batch} (needs ≥ ${HTTP_RATIO})`,
          pass,
          ...(!pass && floor && floor.textsPerRequest === g.http.result.textsPerRequest
            ? {
                host: `fastify answering without a model sustained ${qpsText(floor.textsPerSecond)} texts/s here = ${(floor.textsPerSecond / base.qps).toFixed(2)}× that model-only QPS`,
              }
            : {}),
        });
      }
    }
  }
  return out;
}

/**
 * What the machine itself reached against a fixed reference in this run: PyTorch's own export of the shape
 * and, at the same input length, a graph that does nothing — no graph runs faster than that one here, so it
 * is worth saying when it is less than twice the reference (when per-call cost alone eats most of the budget).
 */
function hostNote(
  report: BenchReport,
  g: ModelGroup,
  runtime: BenchRuntime,
  batch: number,
  refQps: number,
): { host: string } | Record<string, never> {
  const parts: string[] = [];
  const same = sameRunQps(g, runtime, batch);
  if (same !== undefined)
    parts.push(
      `${SAME_RUN_NAME[runtime as SameRunRow['runtime']]} reached ${(same / refQps).toFixed(2)}× of it`,
    );
  const floor = report.floor?.seq === g.seq ? report.floor.model.find((f) => f.batch === batch) : undefined;
  if (floor && floor.latency.qps < 2 * refQps)
    parts.push(
      `a graph that does nothing ${(floor.latency.qps / refQps).toFixed(2)}× (${qpsText(floor.latency.qps)} QPS)`,
    );
  return parts.length ? { host: `in this run ${parts.join('; ')}` } : {};
}

/**
 * What the HTTP figure is compared with: the served directory's model-only QPS at batch 1 — one query
 * per request, as the load test sends them (the server's micro-batching may do better than that).
 */
function httpBaseline(g: ModelGroup): { qps: number; batch: number } | undefined {
  const rows = g.rows.filter((r) => r.target.dir === g.http!.dir).sort((a, b) => a.batch - b.batch);
  return rows[0] ? { qps: rows[0].latency.qps, batch: rows[0].batch } : undefined;
}

/**
 * `withChecks` adds the project's own acceptance checks (fixed references, onnxruntime against libtorch);
 * `npm run bench:deploy` shows them, `alembic bench` does not: they judge alembic, not the user's model.
 */
export function renderReport(report: BenchReport, opts: { withChecks?: boolean } = {}): string {
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
      const ref = referenceQps(g.net, g.model, g.seq, r.target.runtime, r.batch);
      const same = sameRunQps(g, r.target.runtime, r.batch);
      const qps = r.latency.qps;
      rows.push([
        ...latencyCells(model, RUNTIME_NAME[r.target.runtime], r.batch, r.latency),
        ref ? qpsText(ref.qps) : '',
        ref ? `${(qps / ref.qps).toFixed(2)}×` : '',
        same !== undefined ? `${(qps / same).toFixed(2)}×` : '',
      ]);
    }
    for (const r of g.sameRun?.rows ?? []) {
      const runtime = r.runtime === 'onnx-fp32' ? 'pytorch-exported' : 'pytorch-exported int8';
      rows.push([...latencyCells(model, runtime, r.batch, r.latency), '', '', '']);
    }
  }
  for (const f of report.floor?.model ?? [])
    rows.push([
      ...latencyCells(`host floor (seq ${report.floor!.seq})`, 'empty graph', f.batch, f.latency),
      '',
      '',
      '',
    ]);
  lines.push(
    ...textTable(
      ['model', 'runtime', 'batch', 'p50 ms', 'p95 ms', 'p99 ms', 'QPS', 'reference', 'ratio', 'vs same-run'],
      rows,
      2,
    ),
  );
  lines.push(
    '  reference: fixed figures for PyTorch-exported graphs of the same shape in onnxruntime-node, 2 threads, idle machine',
    '  vs same-run: against the PyTorch-exported graph timed in this run ("pytorch-exported" rows), whatever the load;',
    '  int8 against onnxruntime\'s quantize_dynamic of it at the same weight bits ("pytorch-exported int8")',
  );
  if (report.floor)
    lines.push(
      '  host floor: a graph that returns its input, fed like the models; no graph runs faster on this machine',
    );
  for (const g of report.groups) {
    if (g.sameRunSkipped) lines.push(`  ${g.name}: no same-run reference: ${g.sameRunSkipped}`);
    if (g.sameRunInt8Skipped) lines.push(`  ${g.name}: no same-run int8 reference: ${g.sameRunInt8Skipped}`);
  }
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
  const list = opts.withChecks ? checks(report) : [];
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
