/**
 * A run's metrics.jsonl: one JSON line per train log, evaluation and test score (and the same scalars as
 * TensorBoard events when asked). A resumed run first forgets the lines written after its checkpoint,
 * since it writes them again, so the log of an interrupted run ends up as an uninterrupted run's.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TensorBoardLog } from './tensorboard.js';

export class MetricsLog {
  readonly file: string;
  private readonly tensorboard?: TensorBoardLog;
  private readonly write: boolean;

  /**
   * `resumedAt`: the step of the checkpoint a resumed run starts from (undefined: a fresh run, the log
   * starts empty). `write` false: the lines are dropped (a process that does not write the run's files).
   */
  constructor(outputDir: string, opts: { resumedAt?: number; tensorboard: boolean; write: boolean }) {
    this.file = path.join(outputDir, 'metrics.jsonl');
    this.write = opts.write;
    if (!this.write) return;
    if (opts.resumedAt === undefined) writeFileSync(this.file, '');
    else truncateMetrics(this.file, opts.resumedAt);
    if (opts.tensorboard)
      this.tensorboard = TensorBoardLog.open(path.join(outputDir, 'tensorboard'), opts.resumedAt);
  }

  record(entry: Record<string, unknown>): void {
    if (!this.write) return;
    appendFileSync(this.file, JSON.stringify(entry) + '\n');
    this.tensorboard?.add(entry);
  }

  /** The step of the last evaluation logged, or -1. */
  lastEvalStep(): number {
    if (!existsSync(this.file)) return -1;
    const evals = readMetricsLog(this.file).filter((e) => e.type === 'eval');
    return evals.length ? Number(evals[evals.length - 1].step) : -1;
  }
}

export function readMetricsLog(file: string): Record<string, number | string>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/**
 * On resume, forget log lines written after the checkpoint (they will be written again), and a last line a
 * killed run left half written.
 */
function truncateMetrics(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => {
      const e = parseLogLine(l);
      return e !== undefined && Number(e.step) <= step && e.type !== 'test';
    });
  writeFileSync(file, kept.map((l) => l + '\n').join(''));
}

function parseLogLine(line: string): Record<string, number | string> | undefined {
  if (!line.trim()) return undefined;
  try {
    return JSON.parse(line) as Record<string, number | string>;
  } catch {
    return undefined;
  }
}
