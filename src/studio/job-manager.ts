/**
 * Runs studio jobs in child processes (job-worker.ts) and keeps their story in the database: every event
 * a worker sends is stored and passed to whoever listens (the pages' event streams), the best dev metrics
 * of a run are kept up to date, and the job's end — result, one-line error, or a stop — is recorded.
 * Stop sends SIGINT, as Ctrl-C would: the trainer writes a checkpoint and the job can be resumed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventRow, JobKind, JobStatus, StudioDb } from './studio-db.js';
import type { WorkerJob, WorkerMessage } from './job-worker.js';

export type EventListener = (e: EventRow) => void;

interface Running {
  child: ChildProcess;
  runId: number | null;
  stopRequested: boolean;
  exited: Promise<void>;
}

/** The worker's file beside this one (.ts when the studio runs from source through tsx, .js when built). */
function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), `job-worker${ext}`);
  return { file, execArgv: ext === '.ts' ? ['--import', import.meta.resolve('tsx')] : [] };
}

/** The last lines a crashed worker wrote to stderr, for the job's error. */
const STDERR_TAIL = 2000;

export class JobManager {
  private readonly running = new Map<number, Running>();
  private readonly listeners = new Set<EventListener>();
  /** Set while the studio shuts down: the jobs it stops are 'interrupted', to resume on the next start. */
  private closing = false;

  constructor(
    private readonly db: StudioDb,
    private readonly cwd: string,
  ) {}

  /** Starts a job for `runId` (null: a job of no run); returns its id. */
  start(kind: JobKind, runId: number | null, params: Record<string, unknown>, job: WorkerJob): number {
    const jobId = this.db.addJob(kind, runId, params);
    const { file, execArgv } = workerEntry();
    const child = fork(file, [], {
      cwd: this.cwd,
      execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Its own process group: Ctrl-C in the studio's terminal reaches the studio only, which stops each job
      // once (a second SIGINT would end a trainer before its checkpoint).
      detached: true,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)));
    let outcome: { status: JobStatus; result: unknown; error: string | null } | undefined;
    if (runId !== null && kind !== 'export') this.db.setRunStatus(runId, 'running');
    this.emit(jobId, 'started', { kind, runId });

    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'event') {
        const { type, ...data } = m.event;
        if (type === 'eval' && data.best === true && runId !== null && kind !== 'export')
          this.db.setRunBest(runId, data.metrics as Record<string, number>);
        this.emit(jobId, type, data);
      } else if (m.type === 'result') outcome = { status: 'done', result: m.result, error: null };
      else outcome = { status: 'failed', result: null, error: m.message };
    });
    const exited = new Promise<void>((resolve) => {
      let finished = false;
      const finish = (ended: string) => {
        if (finished) return;
        finished = true;
        const stopped =
          (this.running.get(jobId)?.stopRequested ?? false) || ended === 'SIGINT' || ended === 'SIGTERM';
        this.running.delete(jobId);
        outcome ??= {
          status: 'failed',
          result: null,
          error: `the job's process ended (${ended}): ${lastLine(stderr)}`,
        };
        // Stopped on request (a trainer's result says interrupted; a pipeline may end with its Interrupted
        // error, or by the signal itself): resumable, as 'stopped', or 'interrupted' when the studio ends.
        const interrupted = (outcome.result as { interrupted?: unknown } | null)?.interrupted;
        if ((stopped && outcome.status !== 'done') || interrupted)
          outcome = { status: this.closing ? 'interrupted' : 'stopped', result: outcome.result, error: null };
        this.db.endJob(jobId, outcome.status, outcome.result, outcome.error);
        if (runId !== null && kind !== 'export') this.db.setRunStatus(runId, outcome.status);
        this.emit(jobId, outcome.status, {
          ...(outcome.error !== null && { error: outcome.error }),
          ...(outcome.result !== null && { result: outcome.result }),
        });
        resolve();
      };
      child.on('exit', (code, signal) => finish(signal ?? `exit ${code}`));
      child.on('error', (e) => {
        stderr += e.message;
        finish('could not start');
      });
    });
    this.running.set(jobId, { child, runId, stopRequested: false, exited });
    child.send(job);
    return jobId;
  }

  isRunning(jobId: number): boolean {
    return this.running.has(jobId);
  }

  /** The running job of a run, if any. */
  runningJobOf(runId: number): number | undefined {
    for (const [id, r] of this.running) if (r.runId === runId) return id;
    return undefined;
  }

  /** Sends SIGINT (the trainer checkpoints and ends); false when the job is not running. */
  stop(jobId: number): boolean {
    const r = this.running.get(jobId);
    if (!r) return false;
    r.stopRequested = true;
    r.child.kill('SIGINT');
    return true;
  }

  /** Resolves when the job's process has ended and its end is recorded. */
  async waitFor(jobId: number): Promise<void> {
    await this.running.get(jobId)?.exited;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stops every job (SIGINT, then SIGKILL after `graceMs`) and records them as interrupted, resumable
   * from their last checkpoint when the studio starts again.
   */
  async closeAll(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const all = [...this.running.values()];
    for (const r of all) {
      r.stopRequested = true;
      r.child.kill('SIGINT');
    }
    const timer = setTimeout(() => all.forEach((r) => r.child.kill('SIGKILL')), graceMs);
    await Promise.all(all.map((r) => r.exited));
    clearTimeout(timer);
  }

  private emit(jobId: number, type: string, data: Record<string, unknown>): void {
    const row = this.db.addEvent(jobId, type, data);
    for (const l of this.listeners) l(row);
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
