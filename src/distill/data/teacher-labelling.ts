/**
 * A teacher model directory labels a file of unlabelled text, alone or as one worker of a group
 * (label-shards.ts): what `alembic label` does, and data distillation's label step. Loads the teacher,
 * sizes its threads to this worker's share of the machine, shows progress (rank 0 only: several bars on
 * one terminal would garble it) and frees the model afterwards. The thread count is part of what makes
 * the output exact: the same count per process gives the same bytes however many workers there are.
 */
import os from 'node:os';
import path from 'node:path';
import { setNumThreads } from '../../engine/runtime.js';
import { loadModelDir, readManifest, WEIGHTS_FILE } from '../../train/model-dir.js';
import { UserError } from '../../util/errors.js';
import type { WorkerRank } from '../../util/worker-rank.js';
import { hashFile, hashValue } from '../step-store.js';
import { teacherLabeller } from './label-file.js';
import { LabelProgress } from './label-progress.js';
import { labelSharded, type ShardedLabelResult } from './label-shards.js';
import { DISTILLABLE_TASKS } from './train-step.js';

export interface TeacherLabellingOptions {
  teacherDir: string;
  input: string;
  output: string;
  /** 1 for `text` lines, 2 for `text_a<TAB>text_b` lines (from the teacher's task). */
  textColumns: 1 | 2;
  probabilities: boolean;
  batchSize: number;
  fingerprint: string;
  worker: WorkerRank;
  /** Teacher threads; default this machine's cores divided among its workers. */
  threads?: number;
  syncEvery?: number;
  stallSeconds?: number;
  quiet: boolean;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export async function labelWithTeacher(o: TeacherLabellingOptions): Promise<ShardedLabelResult> {
  const model = loadModelDir(o.teacherDir);
  const cores = Math.max(1, os.availableParallelism());
  const threads = o.threads ?? Math.max(1, Math.floor(cores / o.worker.localWorld));
  setNumThreads(threads);
  // libtorch splits some reductions by thread, so the thread count can move a probability's last digit.
  if (o.worker.world > 1 && o.worker.rank === 0)
    o.log(
      `label: ${o.worker.world} workers, ${threads} teacher thread${threads > 1 ? 's' : ''} each: the merged ` +
        `file is byte-for-byte what one process with ${threads} thread${threads > 1 ? 's' : ''} writes`,
    );
  let progress: LabelProgress | undefined;
  try {
    return await labelSharded({
      input: o.input,
      output: o.output,
      textColumns: o.textColumns,
      label: teacherLabeller(model),
      batchSize: o.batchSize,
      probabilities: o.probabilities,
      fingerprint: o.fingerprint,
      syncEvery: o.syncEvery,
      signal: o.signal,
      rank: o.worker.rank,
      world: o.worker.world,
      stallSeconds: o.stallSeconds,
      onStart: (resumedAt, total) =>
        (progress = new LabelProgress(total, resumedAt, o.quiet || o.worker.rank !== 0)),
      onProgress: (done) => progress?.update(done),
      log: o.log,
    });
  } finally {
    progress?.stop();
    model.model.dispose();
  }
}

/** The text columns a teacher reads, or a one-line error for a model data distillation cannot use. */
export function teacherTextColumns(dir: string): 1 | 2 {
  const manifest = readManifest(dir);
  if (!(DISTILLABLE_TASKS as readonly string[]).includes(manifest.task)) {
    throw new UserError(
      `${dir}: a ${manifest.task} model; labelling supports ${DISTILLABLE_TASKS.join(' and ')}`,
    );
  }
  return manifest.task === 'text_pair_classification' ? 2 : 1;
}

/** What a labelled file depends on: the teacher's weights, the input's bytes and the format. */
export async function labellingFingerprint(o: {
  teacherDir: string;
  input: string;
  probabilities: boolean;
  batchSize: number;
}): Promise<string> {
  return hashValue({
    teacher: await hashFile(path.join(o.teacherDir, WEIGHTS_FILE)),
    input: await hashFile(o.input),
    probabilities: o.probabilities,
    batchSize: o.batchSize,
  });
}
