/**
 * Labelling split across workers (processes on one machine, or machines sharing the output folder)
 * without collectives: worker `rank` of `world` labels one contiguous shard of the input into
 * `<output>.shards/shard-<rank>-of-<world>.tsv`, resumably (label-file.ts's progress marker), publishes
 * it by renaming the finished file into place and then writing a completion marker (`.done`, replaced
 * atomically); rank 0, after its own shard, waits for every marker and concatenates the shards, in rank
 * order, into `<output>` (temp file + rename).
 *
 * The merged file is byte-for-byte the single-process one: a teacher's output may depend on which
 * examples share a padded batch, so shards are whole batches of the single-process order (batch
 * boundaries counted from the first input line, nothing reordered) and every line meets the same batch
 * companions as in one process. Resuming keeps that too: a shard's progress points fall on its batches.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileDurably } from '../../util/durable-write.js';
import { UserError } from '../../util/errors.js';
import { hashValue } from '../step-store.js';
import {
  completeLabelling,
  labelFile,
  labelledSoFar,
  markComplete,
  type LabelFileOptions,
  type LineRange,
} from './label-file.js';
import { countLines } from './training-files.js';

export interface ShardedLabelOptions extends Omit<LabelFileOptions, 'range'> {
  rank: number;
  world: number;
  /** Rank 0 fails when no missing shard has progressed for this many seconds. Default 600. */
  stallSeconds?: number;
  /** How often rank 0 looks at the shards while waiting, in ms. Default 200. */
  pollMs?: number;
}

export interface ShardedLabelResult {
  /** Input lines (all of them, not only this worker's). */
  total: number;
  /** This worker's lines. */
  shard: LineRange;
  /** Lines this run labelled. */
  labelled: number;
  /** Lines of this worker's shard done before this run. */
  resumedAt: number;
  /** This worker's part is done (false when stopped by the signal). */
  complete: boolean;
  /** `output` holds every line (rank 0 merged, or it was complete already). */
  merged: boolean;
}

interface DoneMarker {
  format: 'alembic-label-shard';
  fingerprint: string;
  rank: number;
  world: number;
  start: number;
  end: number;
  bytes: number;
}

/**
 * The lines of worker `rank` of `world`: whole batches of `batchSize` counted from line 0, as evenly
 * spread as whole batches allow (a shard may be empty when there are fewer batches than workers).
 */
export function shardRange(total: number, batchSize: number, rank: number, world: number): LineRange {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new UserError(`batch size must be ≥ 1, got ${batchSize}`);
  const batches = Math.ceil(total / batchSize);
  // Rounded up: lower ranks take the extra batches, so rank 0 (which also merges) is never idle.
  const first = Math.ceil((rank * batches) / world);
  const last = Math.ceil(((rank + 1) * batches) / world);
  return { start: Math.min(total, first * batchSize), end: Math.min(total, last * batchSize) };
}

export const shardDir = (output: string) => `${output}.shards`;

function shardFile(output: string, rank: number, world: number): string {
  return path.join(shardDir(output), `shard-${rank}-of-${world}.tsv`);
}
const partialFile = (shard: string) => `${shard}.partial`;
const doneFile = (shard: string) => `${shard}.done`;

/** A shard's own progress fingerprint: the labelling's, and where the shard lies. */
function shardFingerprint(fingerprint: string, batchSize: number, rank: number, world: number): string {
  return hashValue({ fingerprint, batchSize, rank, world });
}

/** Labels this worker's shard; rank 0 then waits for the others' and merges them into `output`. */
export async function labelSharded(options: ShardedLabelOptions): Promise<ShardedLabelResult> {
  const { output, rank, world, fingerprint, batchSize } = options;
  if (world === 1) {
    const r = await labelFile(options);
    const shard = { start: 0, end: r.total };
    return { ...r, shard, merged: r.complete };
  }
  const log = options.log ?? (() => {});
  const total = await countLines(options.input);
  const shard = shardRange(total, batchSize, rank, world);
  if (completeLabelling(output, fingerprint)) {
    return { total, shard, labelled: 0, resumedAt: shard.end - shard.start, complete: true, merged: true };
  }
  const file = shardFile(output, rank, world);
  mkdirSync(shardDir(output), { recursive: true });
  let labelled = 0;
  let resumedAt = shard.end - shard.start;
  if (!readDone(file, fingerprint, rank, world)) {
    // Finished and renamed, but stopped before its marker: label-file.ts checks it and finds it complete.
    if (existsSync(file) && !existsSync(partialFile(file))) renameSync(file, partialFile(file));
    const r = await labelFile({
      ...options,
      output: partialFile(file),
      range: shard,
      fingerprint: shardFingerprint(fingerprint, batchSize, rank, world),
      log: (line) => log(`[rank ${rank}/${world}] ${line}`),
    });
    labelled = r.labelled;
    resumedAt = r.resumedAt;
    if (!r.complete) return { total, shard, labelled, resumedAt, complete: false, merged: false };
    renameSync(partialFile(file), file);
    const done: DoneMarker = {
      format: 'alembic-label-shard',
      fingerprint,
      rank,
      world,
      ...shard,
      bytes: statSync(file).size,
    };
    writeFileDurably(doneFile(file), JSON.stringify(done) + '\n');
  }
  if (rank !== 0) return { total, shard, labelled, resumedAt, complete: true, merged: false };
  const waited = await waitForShards(options, log);
  if (!waited) return { total, shard, labelled, resumedAt, complete: true, merged: false };
  mergeShards(output, fingerprint);
  log(`label: merged ${world} shards into ${output}`);
  return { total, shard, labelled, resumedAt, complete: true, merged: true };
}

/** Waits until every shard is done (true), or the signal stops the wait (false); fails on a stall. */
async function waitForShards(options: ShardedLabelOptions, log: (line: string) => void): Promise<boolean> {
  const { output, world, fingerprint, batchSize } = options;
  const stallMs = (options.stallSeconds ?? 600) * 1000;
  let lastProgress = '';
  let lastChange = Date.now();
  let announced = false;
  for (;;) {
    const missing = [...Array(world).keys()].filter(
      (r) => !readDone(shardFile(output, r, world), fingerprint, r, world),
    );
    if (missing.length === 0) return true;
    if (options.signal?.aborted) return false;
    // Progress: durable lines, and bytes written since (a slow teacher may sync rarely).
    const progress = missing
      .map((r) => {
        const partial = partialFile(shardFile(output, r, world));
        const lines = labelledSoFar(partial, shardFingerprint(fingerprint, batchSize, r, world));
        return `${lines}:${sizeOf(partial)}`;
      })
      .join(' ');
    if (progress !== lastProgress) {
      lastProgress = progress;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new UserError(
        `${shardDir(output)}: rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${world} ` +
          `made no labelling progress for ${Math.round(stallMs / 1000)} s; restart the missing ranks ` +
          `(they resume), then run the same command or \`alembic label --merge ${output}\``,
      );
    }
    if (!announced) {
      log(`label: waiting for the shards of rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
      announced = true;
    }
    await sleep(options.pollMs ?? 200);
  }
}

/**
 * Concatenates the finished shards of `<output>.shards/` in rank order into `output` (temp file +
 * rename), records it complete, and removes the shards (only the files written here). Without a
 * fingerprint, takes the shards' own (they must agree). Fails with one line naming what is missing.
 */
export function mergeShards(output: string, fingerprint?: string): { lines: number; world: number } {
  const dir = shardDir(output);
  const names = existsSync(dir)
    ? readdirSync(dir).filter((n) => /^shard-\d+-of-\d+\.tsv\.done$/.test(n))
    : [];
  if (names.length === 0) throw new UserError(`${dir}: no finished shards to merge`);
  const marker0 = JSON.parse(readFileSync(path.join(dir, names[0]), 'utf8')) as DoneMarker;
  const fp = fingerprint ?? marker0.fingerprint;
  const world = marker0.world;
  const markers: DoneMarker[] = [];
  const missing: number[] = [];
  for (let r = 0; r < world; r++) {
    const m = readDone(shardFile(output, r, world), fp, r, world);
    if (m) markers.push(m);
    else missing.push(r);
  }
  if (missing.length > 0) {
    throw new UserError(
      `${dir}: the shard${missing.length > 1 ? 's' : ''} of rank${missing.length > 1 ? 's' : ''} ` +
        `${missing.join(', ')} of ${world} ${missing.length > 1 ? 'are' : 'is'} not finished`,
    );
  }
  markers.forEach((m, r) => {
    if (m.start !== (r === 0 ? 0 : markers[r - 1].end))
      throw new UserError(
        `${doneFile(shardFile(output, r, world))}: its lines do not follow rank ${r - 1}'s`,
      );
  });
  const tmp = `${output}.tmp-${process.pid}`;
  const out = openSync(tmp, 'w');
  let bytes = 0;
  try {
    const block = Buffer.allocUnsafe(1 << 20);
    for (let r = 0; r < world; r++) {
      const fd = openSync(shardFile(output, r, world), 'r');
      try {
        for (let n = readSync(fd, block); n > 0; n = readSync(fd, block)) {
          writeSync(out, block, 0, n);
          bytes += n;
        }
      } finally {
        closeSync(fd);
      }
    }
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
  renameSync(tmp, output);
  const lines = markers[world - 1].end;
  markComplete(output, fp, lines, bytes);
  removeShards(dir);
  return { lines, world };
}

/** A file's size, or -1 when it is not there (a worker may rename it at any moment). */
function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}

/** Removes the files this module writes in `dir` (any group size), then `dir` if nothing else is left. */
function removeShards(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/^shard-\d+-of-\d+\.tsv(\.partial(\.progress)?|\.done)?(\.tmp-\d+)?$/.test(name))
      rmSync(path.join(dir, name), { force: true });
  }
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}

/** The completion marker of a shard when it is this labelling's and its file is whole. */
function readDone(file: string, fingerprint: string, rank: number, world: number): DoneMarker | undefined {
  let m: DoneMarker;
  try {
    m = JSON.parse(readFileSync(doneFile(file), 'utf8')) as DoneMarker;
  } catch {
    return undefined; // none yet (or torn by a crash before the rename: not written)
  }
  const ours = m.format === 'alembic-label-shard' && m.fingerprint === fingerprint;
  if (!ours || m.rank !== rank || m.world !== world) return undefined;
  return sizeOf(file) === m.bytes ? m : undefined;
}
