/**
 * The studio's export job: a trained model to ONNX (fp32 or int8) through the library API, then what the
 * deploy page shows of it — inputs per second at batch 1 and 32 on this machine (one onnxruntime thread, as
 * `alembic serve` runs a model by default; the `alembic bench` timing) and the dev-set agreement: the share
 * of dev examples the exported graph labels as the trained model does (int8: as the fp32 graph does, from
 * the export's own check).
 */
import { exportModel } from '../api/verbs.js';
import { openModelRunner } from '../api/model-runner.js';
import { benchTarget, describeTarget } from '../deploy/bench/model-bench.js';
import { readDeployManifest } from '../deploy/export/manifest.js';

export interface ExportJob {
  kind: 'export';
  modelDir: string;
  outDir: string;
  int8: boolean;
  /** Seconds of timing per batch size. */
  benchSeconds: number;
}

export interface ExportResult {
  outDir: string;
  int8: boolean;
  bytes: number;
  qps_b1: number;
  qps_b32: number;
  /** null when the model has no dev file (or its task no dev check). */
  dev_agreement: number | null;
  dev_examples: number;
}

export async function runExportJob(job: ExportJob, log: (line: string) => void): Promise<ExportResult> {
  log(`exporting ${job.int8 ? 'int8' : 'fp32'} to ${job.outDir}`);
  const report = await exportModel(job.modelDir, job.outDir, { int8: job.int8 });
  log('timing at batch 1 and 32');
  const rows = await benchTarget(describeTarget(job.outDir), {
    batchSizes: [1, 32],
    threads: 1,
    timing: { warmupSeconds: Math.min(0.5, job.benchSeconds / 4), seconds: job.benchSeconds, minRuns: 5 },
  });
  const qps = (batch: number) => rows.find((r) => r.batch === batch)!.latency.qps;
  let agreement: { share: number; examples: number } | null = null;
  if (report.dev) agreement = { share: report.dev.agreement, examples: report.dev.examples };
  else if (!job.int8) agreement = await agreementWithTrained(job.modelDir, job.outDir);
  return {
    outDir: job.outDir,
    int8: job.int8,
    bytes: report.bytes,
    qps_b1: qps(1),
    qps_b32: qps(32),
    dev_agreement: agreement?.share ?? null,
    dev_examples: agreement?.examples ?? 0,
  };
}

/** What a prediction decides (labels, tags, a score to 4 places, an answer), to compare two runtimes. */
function decision(p: unknown): string {
  const o = p as Record<string, unknown>;
  if (Array.isArray(o.labels)) return JSON.stringify(o.labels);
  if (Array.isArray(o.tags)) return JSON.stringify(o.tags);
  if (typeof o.score === 'number') return o.score.toFixed(4);
  return JSON.stringify(p);
}

/** The fp32 graph against the trained model on the dev file the model was trained with. */
async function agreementWithTrained(
  modelDir: string,
  exportDir: string,
): Promise<{ share: number; examples: number } | null> {
  const dev = readDeployManifest(modelDir).config.dataset.dev;
  if (!dev) return null;
  const torch = await openModelRunner(modelDir);
  const onnx = await openModelRunner(exportDir);
  try {
    const examples = await torch.task.read(dev, { labelled: true });
    if (examples.length === 0) return null;
    const [a, b] = [await torch.predict(examples), await onnx.predict(examples)];
    const same = a.filter((p, i) => decision(p) === decision(b[i])).length;
    return { share: same / examples.length, examples: examples.length };
  } finally {
    await torch.dispose();
    await onnx.dispose();
  }
}
