/**
 * The studio's state in an embedded SQLite database (better-sqlite3) in the workspace: runs, the jobs that
 * made them (train, resume, distil, export, measure) and every event a job reported. It outlives the
 * server, so a restarted studio shows every run, and a job that was running when the last one ended is
 * found still marked 'running' and becomes 'interrupted' (resumable from its checkpoint).
 */
import Database from 'better-sqlite3';
import path from 'node:path';

export type JobStatus = 'running' | 'done' | 'failed' | 'stopped' | 'interrupted';
export type JobKind = 'train' | 'distill-model' | 'distill-data' | 'export' | 'advise-measure';

export interface RunRow {
  id: number;
  name: string;
  task: string;
  net: string;
  /** The status of the run's latest training job. */
  status: JobStatus;
  /** The run's folder (trainer.output_dir), an absolute path in the workspace. */
  dir: string;
  /** The config as the user gave it (JSON). */
  config: unknown;
  /** The best dev metrics seen, by name. */
  best: Record<string, number> | null;
  /** What made the run: a training config, or a distillation of another run. */
  kind: JobKind;
  parent: number | null;
  created: string;
}

export interface JobRow {
  id: number;
  kind: JobKind;
  runId: number | null;
  status: JobStatus;
  params: Record<string, unknown>;
  result: unknown;
  error: string | null;
  created: string;
  ended: string | null;
}

export interface EventRow {
  id: number;
  jobId: number;
  type: string;
  data: Record<string, unknown>;
  time: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  task TEXT NOT NULL,
  net TEXT NOT NULL,
  status TEXT NOT NULL,
  dir TEXT NOT NULL,
  config TEXT NOT NULL,
  best TEXT,
  kind TEXT NOT NULL,
  parent INTEGER,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  run_id INTEGER,
  status TEXT NOT NULL,
  params TEXT NOT NULL,
  result TEXT,
  error TEXT,
  created TEXT NOT NULL,
  ended TEXT
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_job ON events (job_id, id);
CREATE INDEX IF NOT EXISTS jobs_by_run ON jobs (run_id, id);
`;

const now = () => new Date().toISOString();
const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

interface RawRun extends Omit<RunRow, 'config' | 'best'> {
  config: string;
  best: string | null;
}
interface RawJob {
  id: number;
  kind: JobKind;
  run_id: number | null;
  status: JobStatus;
  params: string;
  result: string | null;
  error: string | null;
  created: string;
  ended: string | null;
}

export class StudioDb {
  private readonly db: Database.Database;

  constructor(stateDir: string) {
    this.db = new Database(path.join(stateDir, 'studio.db'));
    // WAL: the page's reads do not wait for a job's event writes.
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  /** Jobs a previous studio left 'running' are 'interrupted' now (their process ended with it). */
  markInterrupted(): number[] {
    const ids = (
      this.db.prepare(`SELECT id FROM jobs WHERE status = 'running'`).all() as { id: number }[]
    ).map((r) => r.id);
    for (const id of ids) this.endJob(id, 'interrupted', null, 'the studio stopped while this job ran');
    this.db.prepare(`UPDATE runs SET status = 'interrupted' WHERE status = 'running'`).run();
    return ids;
  }

  addRun(r: Omit<RunRow, 'id' | 'created' | 'best'>): number {
    const info = this.db
      .prepare(
        `INSERT INTO runs (name, task, net, status, dir, config, kind, parent, created)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.name, r.task, r.net, r.status, r.dir, JSON.stringify(r.config), r.kind, r.parent, now());
    return Number(info.lastInsertRowid);
  }

  run(id: number): RunRow | undefined {
    const raw = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RawRun | undefined;
    return raw && toRun(raw);
  }

  runByName(name: string): RunRow | undefined {
    const raw = this.db.prepare('SELECT * FROM runs WHERE name = ?').get(name) as RawRun | undefined;
    return raw && toRun(raw);
  }

  runs(): RunRow[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY id').all() as RawRun[]).map(toRun);
  }

  setRunStatus(id: number, status: JobStatus): void {
    this.db.prepare('UPDATE runs SET status = ? WHERE id = ?').run(status, id);
  }

  setRunBest(id: number, best: Record<string, number>): void {
    this.db.prepare('UPDATE runs SET best = ? WHERE id = ?').run(JSON.stringify(best), id);
  }

  deleteRun(id: number): void {
    const jobs = this.db.prepare('SELECT id FROM jobs WHERE run_id = ?').all(id) as { id: number }[];
    this.db.transaction(() => {
      for (const j of jobs) this.db.prepare('DELETE FROM events WHERE job_id = ?').run(j.id);
      this.db.prepare('DELETE FROM jobs WHERE run_id = ?').run(id);
      this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
    })();
  }

  addJob(kind: JobKind, runId: number | null, params: Record<string, unknown>): number {
    const info = this.db
      .prepare(`INSERT INTO jobs (kind, run_id, status, params, created) VALUES (?, ?, 'running', ?, ?)`)
      .run(kind, runId, JSON.stringify(params), now());
    return Number(info.lastInsertRowid);
  }

  endJob(id: number, status: JobStatus, result: unknown, error: string | null): void {
    this.db
      .prepare('UPDATE jobs SET status = ?, result = ?, error = ?, ended = ? WHERE id = ?')
      .run(status, result === null || result === undefined ? null : JSON.stringify(result), error, now(), id);
  }

  job(id: number): JobRow | undefined {
    const raw = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as RawJob | undefined;
    return raw && toJob(raw);
  }

  jobs(): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY id').all() as RawJob[]).map(toJob);
  }

  /** The run's jobs, newest first. */
  jobsOfRun(runId: number): JobRow[] {
    return (
      this.db.prepare('SELECT * FROM jobs WHERE run_id = ? ORDER BY id DESC').all(runId) as RawJob[]
    ).map(toJob);
  }

  addEvent(jobId: number, type: string, data: Record<string, unknown>): EventRow {
    const time = now();
    const info = this.db
      .prepare('INSERT INTO events (job_id, type, data, time) VALUES (?, ?, ?, ?)')
      .run(jobId, type, JSON.stringify(data), time);
    return { id: Number(info.lastInsertRowid), jobId, type, data, time };
  }

  /** Events of these jobs after event `afterId`, oldest first. */
  events(jobIds: readonly number[], afterId = 0): EventRow[] {
    if (jobIds.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT id, job_id, type, data, time FROM events
         WHERE job_id IN (${jobIds.map(() => '?').join(',')}) AND id > ? ORDER BY id`,
      )
      .all(...jobIds, afterId) as { id: number; job_id: number; type: string; data: string; time: string }[];
    return rows.map((r) => ({
      id: r.id,
      jobId: r.job_id,
      type: r.type,
      data: JSON.parse(r.data) as Record<string, unknown>,
      time: r.time,
    }));
  }
}

function toRun(r: RawRun): RunRow {
  return { ...r, config: parse(r.config), best: parse(r.best) as Record<string, number> | null };
}

function toJob(r: RawJob): JobRow {
  return {
    id: r.id,
    kind: r.kind,
    runId: r.run_id,
    status: r.status,
    params: parse(r.params) as Record<string, unknown>,
    result: parse(r.result),
    error: r.error,
    created: r.created,
    ended: r.ended,
  };
}
