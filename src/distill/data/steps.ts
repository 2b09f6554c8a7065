/**
 * Resumable pipeline steps. Each step leaves a record `steps/<name>.json` holding a fingerprint of what
 * it was made from (settings and input file contents). A step whose record says "done" with the same
 * fingerprint is not redone; one that says "started" with the same fingerprint continues (its own work
 * is resumable); any other is started afresh. A changed input therefore redoes the steps that depend on
 * it, because their fingerprints include the fingerprints of the steps before them.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../util/errors.js';

interface StepRecord<R> {
  step: string;
  fingerprint: string;
  status: 'started' | 'done';
  updated: string;
  result?: R;
}

/** Raised when a step stopped early (Ctrl-C): what is done is kept, and a rerun continues. */
export class PipelineInterrupted extends UserError {
  constructor(step: string) {
    super(`interrupted during the ${step} step; run the same command again to continue where it stopped`);
    this.name = 'PipelineInterrupted';
  }
}

export interface StepContext {
  /** True when a run of this step with the same fingerprint was started before: continue it. */
  resume: boolean;
}

export class StepRunner {
  constructor(
    private readonly dir: string,
    private readonly log: (line: string) => void,
  ) {}

  /** The result of a finished step with this fingerprint, if any. */
  done<R>(name: string, fingerprint: string): R | undefined {
    const record = this.read<R>(name);
    return record?.status === 'done' && record.fingerprint === fingerprint ? record.result : undefined;
  }

  async run<R>(name: string, fingerprint: string, work: (ctx: StepContext) => Promise<R>): Promise<R> {
    const record = this.read<R>(name);
    if (record?.fingerprint === fingerprint && record.status === 'done') {
      this.log(`${name}: done already`);
      return record.result as R;
    }
    const resume = record?.fingerprint === fingerprint && record.status === 'started';
    if (record && !resume) this.log(`${name}: inputs or settings changed since the last run: redoing it`);
    this.write({ step: name, fingerprint, status: 'started', updated: new Date().toISOString() });
    const result = await work({ resume });
    this.write({ step: name, fingerprint, status: 'done', updated: new Date().toISOString(), result });
    return result;
  }

  private file(name: string): string {
    return path.join(this.dir, `${name.replace(/[^\w.-]+/g, '_')}.json`);
  }

  private read<R>(name: string): StepRecord<R> | undefined {
    const file = this.file(name);
    if (!existsSync(file)) return undefined;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as StepRecord<R>;
    } catch {
      return undefined; // a damaged record only means the step is redone
    }
  }

  private write<R>(record: StepRecord<R>): void {
    mkdirSync(this.dir, { recursive: true });
    const file = this.file(record.step);
    writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2) + '\n');
    renameSync(`${file}.tmp`, file);
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
