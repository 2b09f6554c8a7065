/**
 * The deployment benchmark's acceptance checks and reference columns (`npm run bench:deploy`): alembic's
 * graphs against fixed PyTorch-reference figures and against PyTorch's export timed in the same run,
 * onnxruntime against libtorch at batch 1, and `alembic serve` over HTTP against the model-only rate. They
 * judge alembic itself, so `alembic bench` (which times a user's model) does not show them.
 */
import {
  httpBaseline,
  modelOnlyQps,
  qpsText,
  RUNTIME_NAME,
  type BenchCheck,
  type ReportExtras,
} from '../src/deploy/bench/bench-report.js';
import type { BenchRuntime } from '../src/deploy/bench/model-bench.js';
import type { BenchReport, ModelGroup, SameRunRow } from '../src/deploy/bench/run-bench.js';
import { HTTP_RATIO, REFERENCE_RATIO, referenceQps } from './deploy-references.js';
/** The same-run reference's QPS for a runtime (PyTorch's export, or onnxruntime's int8 of it) and batch. */
function sameRunQps(g: ModelGroup, runtime: BenchRuntime, batch: number): number | undefined {
  return g.sameRun?.rows.find((r) => r.runtime === runtime && r.batch === batch)?.latency.qps;
}

const SAME_RUN_NAME: Record<SameRunRow['runtime'], string> = {
  'onnx-fp32': 'the PyTorch-exported graph',
  'onnx-int8': "onnxruntime's quantize_dynamic of the PyTorch-exported graph",
};

/** The acceptance checks of one benchmark run, in the report's order. */
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

/** The model-only table's reference columns: the fixed figure, the ratio to it, the ratio to the same-run export. */
const COLUMNS: ReportExtras['columns'] = {
  headers: ['reference', 'ratio', 'vs same-run'],
  cells(g, r) {
    const ref = referenceQps(g.net, g.model, g.seq, r.target.runtime, r.batch);
    const same = sameRunQps(g, r.target.runtime, r.batch);
    const qps = r.latency.qps;
    return [
      ref ? qpsText(ref.qps) : '',
      ref ? `${(qps / ref.qps).toFixed(2)}×` : '',
      same !== undefined ? `${(qps / same).toFixed(2)}×` : '',
    ];
  },
  notes: [
    '  reference: fixed figures for PyTorch-exported graphs of the same shape in onnxruntime-node, 2 threads, idle machine',
    '  vs same-run: against the PyTorch-exported graph timed in this run ("pytorch-exported" rows), whatever the load;',
    '  int8 against onnxruntime\'s quantize_dynamic of it at the same weight bits ("pytorch-exported int8")',
  ],
};

/** What `npm run bench:deploy` adds to the report `alembic bench` prints. */
export const DEPLOY_EXTRAS: ReportExtras = { columns: COLUMNS, checks };
