/**
 * Resumable steps for the distillation pipelines (data distillation's steps, model distillation's
 * stages). Each step leaves a record holding a fingerprint of what it was made from: settings and the
 * SHA-256 of its input files' contents (not their times: a copied or touched file is the same input).
 * A step whose record says "done" with the same fingerprint is not redone; one that says "started" with
 * the same fingerprint continues (its own work is resumable); any other is started afresh. A changed
 * input therefore redoes the steps that depend on it, because their fingerprints include the
 * fingerprints of the steps before them.
 *
 * In a group of workers (sharded labelling), rank 0 runs the steps and the others follow: a follower's
 * runner never runs a step, it waits for rank 0's record of it to say "done" with the fingerprint the
 * follower computed itself, so every worker reaches the same step with the same inputs; rank 0's
 * heartbeat file tells it whether rank 0 is still there.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileDurably } from '../util/durable-write.js';
import { Interrupted, UserError } from '../util/errors.js';
import { HeartbeatWatch } from '../util/heartbeat.js';

export type StepStatus = 'started' | 'done';

export interface StepRecord<R> {
  step: string;
  fingerprint: string;
  status: StepStatus;
  updated: string;
  result?: R;
}

/** Reads and writes step records (atomically: a reader sees the old record or the new one). */
export class StepStore {
  /** `file` names the record of a step; by default `<dir>/<step>.json`. */
  constructor(
    private readonly dir: string,
    private readonly file: (step: string) => string = (step) =>
      path.join(dir, `${step.replace(/[^\w.-]+/g, '_')}.json`),
  ) {}

  /** The file holding a step's record. */
  recordFile(step: string): string {
    return this.file(step);
  }

  read<R>(step: string): StepRecord<R> | undefined {
    const file = this.file(step);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as StepRecord<R>;
    } catch {
      return undefined; // a damaged record only means the step is redone
    }
  }

  write<R>(step: string, fingerprint: string, status: StepStatus, result?: R): void {
    const record: StepRecord<R> = { step, fingerprint, status, updated: new Date().toISOString(), result };
    const file = this.file(step);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileDurably(file, JSON.stringify(record, null, 2) + '\n');
  }

  /** What a step with this fingerprint has to do, from its record. */
  decide<R>(step: string, fingerprint: string): StepDecision<R> {
    const record = this.read<R>(step);
    if (record?.fingerprint !== fingerprint) return { action: 'run', changed: record !== undefined };
    if (record.status === 'done') return { action: 'skip', result: record.result as R };
    return { action: 'resume' };
  }
}

export type StepDecision<R> =
  { action: 'skip'; result: R } | { action: 'resume' } | { action: 'run'; changed: boolean };

export interface StepContext {
  /** True when a run of this step with the same fingerprint was started before: continue it. */
  resume: boolean;
}

/** A follower's runner waits for the leader's records instead of running steps. */
export interface FollowOptions {
  /** Stops a wait with Interrupted. */
  signal?: AbortSignal;
  /** How often the record is read while waiting, in ms. Default 1000. */
  pollMs?: number;
  /**
   * The leader's heartbeat file (../util/heartbeat.ts): a wait fails once it has not changed for
   * `timeoutMs` (the leader died or hangs), instead of waiting for ever.
   */
  leader?: { heartbeat: string; timeoutMs: number };
}

/** Runs data distillation's steps, each once per fingerprint, its record in `dir`. */
export class StepRunner {
  private readonly store: StepStore;

  constructor(
    dir: string,
    private readonly log: (line: string) => void,
    private readonly follow?: FollowOptions,
  ) {
    this.store = new StepStore(dir);
  }

  /** True when this runner runs its steps (false: it follows another worker's). */
  get leads(): boolean {
    return this.follow === undefined;
  }

  /** The result of a finished step with this fingerprint, if any. */
  done<R>(name: string, fingerprint: string): R | undefined {
    const decision = this.store.decide<R>(name, fingerprint);
    return decision.action === 'skip' ? decision.result : undefined;
  }

  async run<R>(name: string, fingerprint: string, work: (ctx: StepContext) => Promise<R>): Promise<R> {
    if (this.follow) return this.waitFor<R>(name, fingerprint, this.follow);
    const decision = this.store.decide<R>(name, fingerprint);
    if (decision.action === 'skip') {
      this.log(`${name}: done already`);
      return decision.result;
    }
    if (decision.action === 'run' && decision.changed) {
      this.log(`${name}: inputs or settings changed since the last run: redoing it`);
    }
    this.store.write(name, fingerprint, 'started');
    const result = await work({ resume: decision.action === 'resume' });
    this.store.write(name, fingerprint, 'done', result);
    return result;
  }

  /**
   * Waits for the record of step `name` to say "done" with this fingerprint; returns its result. Fails
   * when the leader's heartbeat stays silent for its timeout.
   */
  private async waitFor<R>(name: string, fingerprint: string, follow: FollowOptions): Promise<R> {
    let announced = false;
    const leader = follow.leader && { ...follow.leader, watch: new HeartbeatWatch(follow.leader.heartbeat) };
    for (;;) {
      const decision = this.store.decide<R>(name, fingerprint);
      if (decision.action === 'skip') return decision.result;
      if (follow.signal?.aborted) throw new Interrupted(name);
      if (leader && leader.watch.silentMs() > leader.timeoutMs) {
        const seconds = leader.timeoutMs / 1000;
        throw new UserError(
          `${this.store.recordFile(name)}: waited for rank 0 to finish step ${name}, but its heartbeat ` +
            `${leader.heartbeat} has not changed for ${seconds} s (--dist-timeout): is rank 0 still running?`,
        );
      }
      if (!announced) this.log(`${name}: waiting for rank 0 to finish it`);
      announced = true;
      await sleep(follow.pollMs ?? 1000);
    }
  }
}

/** SHA-256 of a file's bytes (streamed). */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch {
    throw new UserError(`${file}: cannot read the file`);
  }
  return hash.digest('hex');
}

/** SHA-256 of a value's JSON (keys in insertion order: build values the same way each time). */
export function hashValue(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * What identifies an input path's content: the SHA-256 of a file's bytes, of a folder's files (by
 * relative name, in name order), or null for no path; a missing path is marked as such, so it changes
 * the fingerprint when it appears. Synchronous, read in 1 MiB blocks, for fingerprints built in place.
 */
export function contentStamp(file: string | undefined): unknown {
  if (file === undefined) return null;
  if (!existsSync(file)) return { file, missing: true };
  const hash = createHash('sha256');
  for (const f of filesUnder(file)) {
    hash.update(path.relative(file, f) + '\0');
    hashInto(hash, f);
  }
  return { file, sha256: hash.digest('hex') };
}

function filesUnder(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((name) => filesUnder(path.join(p, name)));
}

function hashInto(hash: ReturnType<typeof createHash>, file: string): void {
  const fd = openSync(file, 'r');
  try {
    const block = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, block); n > 0; n = readSync(fd, block)) hash.update(block.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
