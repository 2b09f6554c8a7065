/**
 * Liveness through a shared folder, for workers that coordinate through files rather than collectives (a
 * data-distillation follower waiting for rank 0's step records): the watched process rewrites a small file
 * every few seconds while it runs; a watcher notes, by its own clock, when the file's content last changed,
 * so clocks of different machines never need to agree. A process that died or hangs stops beating, and the
 * watcher can fail after a timeout instead of waiting forever.
 */
import { readFileSync } from 'node:fs';
import { writeFileDurably } from './durable-write.js';

/** Rewrites `file` every `everyMs` until stop(); the timer does not keep the process alive. */
export class Heartbeat {
  private beats = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    everyMs: number,
  ) {
    this.beat();
    this.timer = setInterval(() => this.beat(), everyMs);
    this.timer.unref();
  }

  private beat(): void {
    this.beats++;
    try {
      writeFileDurably(this.file, `${process.pid} ${this.beats} ${new Date().toISOString()}\n`);
    } catch {
      // A beat that cannot be written is a missed beat: a watcher times out only after several in a row.
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** How long a heartbeat file has been silent, as seen from here since the watch began. */
export class HeartbeatWatch {
  private last: string | undefined;
  private changedAt = Date.now();

  constructor(readonly file: string) {
    this.last = this.read();
  }

  private read(): string | undefined {
    try {
      return readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Milliseconds since the file last changed (or since the watch began, if it has not). */
  silentMs(): number {
    const now = this.read();
    if (now !== this.last) {
      this.last = now;
      this.changedAt = Date.now();
    }
    return Date.now() - this.changedAt;
  }
}
