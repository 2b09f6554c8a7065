/**
 * The studio's "measure" job: the advisor's candidates trained briefly on the user's file and timed on
 * this machine (src/advise/measure.ts, as `alembic advise --measure` runs it); the result is the
 * measurement report, whose rows are the accuracy × QPS points of the Pareto chart.
 */
import { adviseFromSpec } from '../advise/advise.js';
import type { CandidateId } from '../advise/candidates.js';
import { measureAdvice } from '../advise/measure.js';
import type { MeasureReport } from '../advise/advice-report.js';

export interface MeasureJob {
  kind: 'advise-measure';
  spec: Record<string, unknown>;
  train: string;
  dev?: string;
  candidates?: CandidateId[];
  budgetSeconds: number;
  outDir: string;
  /** The workspace: pretrained paths in the spec are relative to it. */
  specDir: string;
}

export function runMeasureJob(job: MeasureJob, log: (line: string) => void): Promise<MeasureReport> {
  const advice = adviseFromSpec(job.spec, 'advice');
  return measureAdvice(advice, {
    train: job.train,
    dev: job.dev,
    budgetSeconds: job.budgetSeconds,
    outDir: job.outDir,
    candidates: job.candidates,
    specDir: job.specDir,
    threads: 1,
    log,
  });
}
