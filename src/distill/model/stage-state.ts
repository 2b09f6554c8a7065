/**
 * Whether a stage has to run. Each stage folder holds `distill-stage.json`: the stage's fingerprint (a
 * hash of its settings, its input files' sizes and times, and the fingerprints of the teacher and the
 * student it starts from) and whether it finished. Run again, `alembic distill` skips a finished stage
 * with the same fingerprint, continues an unfinished one from its newest checkpoint, and runs afresh a
 * stage whose fingerprint changed — and so every stage after it, whose fingerprints include it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { latestCheckpoint, TRAINING_RUN } from '../../train/checkpoint.js';
import { removeDir, type DirKind } from '../../util/replace-dir.js';
import type { TrainSummary } from '../../train/trainer.js';

export const STAGE_FILE = 'distill-stage.json';

export interface StageState {
  stage: string;
  fingerprint: string;
  status: 'running' | 'done';
  /** Free-form facts about the stage (student initialisation, …). */
  info?: Record<string, unknown>;
  summary?: TrainSummary;
  finished?: string;
}

export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** What identifies a file's content cheaply: its path, size and modification time. */
export function fileStamp(file: string | undefined): unknown {
  if (file === undefined) return null;
  try {
    const s = statSync(file);
    return { file, size: s.size, mtime: s.mtimeMs };
  } catch {
    return { file, missing: true };
  }
}

/** A stage folder: its state file, or a training run's files. */
const STAGE_DIR: DirKind = {
  name: 'a distillation stage folder',
  is: (dir) => existsSync(path.join(dir, STAGE_FILE)) || TRAINING_RUN.is(dir),
};

export function readStageState(dir: string): StageState | undefined {
  const file = path.join(dir, STAGE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StageState;
  } catch {
    return undefined; // unreadable: treated as never run
  }
}

export function writeStageState(dir: string, state: StageState): void {
  const file = path.join(dir, STAGE_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, file); // atomic: a reader sees the old state or the new one
}

export type StageDecision =
  { action: 'skip'; state: StageState } | { action: 'resume' } | { action: 'run'; reason?: string };

/** Decides from the stage folder what to do; a stale folder is cleared before a fresh run. */
export function decideStage(dir: string, fp: string): StageDecision {
  const state = readStageState(dir);
  if (state?.fingerprint === fp && state.status === 'done' && existsSync(path.join(dir, 'best'))) {
    return { action: 'skip', state };
  }
  if (state?.fingerprint === fp && state.status === 'running' && latestCheckpoint(dir)) {
    return { action: 'resume' };
  }
  const reason = state && state.fingerprint !== fp ? 'its settings or inputs changed' : undefined;
  removeDir(dir, STAGE_DIR);
  return { action: 'run', reason };
}
