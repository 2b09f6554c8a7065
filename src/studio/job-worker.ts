/**
 * One studio job in its own process (forked by job-manager.ts), so that a training step never blocks the
 * server: it receives the job over IPC, runs it through the library API, and sends back its progress
 * events, warnings, and then its result or its one-line error. Ctrl-C (SIGINT, the studio's stop) is
 * handled by the trainer itself: it writes a checkpoint and ends the process with the signal, so the same
 * job run with `resume` continues from there.
 */
import os from 'node:os';
import { dataDistill, distill, train } from '../api/verbs.js';
import type { TrainEvent } from '../train/train-events.js';
import { asUserError } from '../util/system-error.js';
import { UserError } from '../util/errors.js';
import { runExportJob, type ExportJob } from './export-job.js';
import { runMeasureJob, type MeasureJob } from './measure-job.js';

export type WorkerJob =
  | { kind: 'train'; config: unknown; baseDir: string; resume: boolean }
  | { kind: 'distill-model'; config: unknown; baseDir: string }
  | { kind: 'distill-data'; config: unknown; baseDir: string }
  | ExportJob
  | MeasureJob;

/** What a worker tells the studio. */
export type WorkerMessage =
  | { type: 'event'; event: Record<string, unknown> & { type: string } }
  | { type: 'result'; result: unknown }
  | { type: 'error'; message: string };

/** Step events are many; the page's curve needs a few a second. The last step of a run is always sent. */
const STEP_EVENT_MS = 200;

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    // Nobody to tell once the studio is gone (the disconnect handler below stops the job).
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Forwards progress events (steps thinned out), and log lines as 'log' or, for the trainer's warnings, 'warning'. */
function reporters() {
  let lastStep = 0;
  let pending: TrainEvent | undefined;
  const onProgress = (e: TrainEvent) => {
    if (e.type === 'step') {
      const now = Date.now();
      if (now - lastStep < STEP_EVENT_MS && e.step < e.totalSteps) {
        pending = e;
        return;
      }
      lastStep = now;
      pending = undefined;
    } else if (pending) {
      void send({ type: 'event', event: pending });
      pending = undefined;
    }
    // The trainer's own end is 'train_end': 'done' is the job's end (job-manager.ts), which comes after it.
    void send({ type: 'event', event: e.type === 'done' ? { ...e, type: 'train_end' } : { ...e } });
  };
  const log = (line: string) => {
    const text = line.trim();
    if (text === '') return;
    const warning = /\*\*\* WARNING: (.*) \*\*\*/.exec(text);
    void send({
      type: 'event',
      event: warning ? { type: 'warning', message: warning[1] } : { type: 'log', message: text },
    });
  };
  return { onProgress, log };
}

async function run(job: WorkerJob): Promise<unknown> {
  const { onProgress, log } = reporters();
  const threads = Math.max(1, Math.min(4, os.availableParallelism()));
  switch (job.kind) {
    case 'train': {
      let totalSteps = 0;
      const summary = await train(
        { config: job.config, baseDir: job.baseDir },
        {
          resume: job.resume,
          log,
          onProgress: (e) => {
            if (e.type === 'step') totalSteps = e.totalSteps;
            onProgress(e);
          },
        },
      );
      if (!summary.interrupted && totalSteps > 0 && summary.steps < totalSteps) {
        const message = `early stopping at step ${summary.steps} of ${totalSteps}: the dev metric stopped improving`;
        await send({ type: 'event', event: { type: 'warning', message, earlyStop: true } });
      }
      return summary;
    }
    case 'distill-model':
      return distill({ config: job.config, baseDir: job.baseDir }, { log, onProgress, threads });
    case 'distill-data':
      return dataDistill({ config: job.config, baseDir: job.baseDir }, { log, onProgress, threads });
    case 'export':
      return runExportJob(job, log);
    case 'advise-measure':
      return runMeasureJob(job, log);
  }
}

// The studio went away without stopping this job (killed, crashed): stop as Ctrl-C would, at a checkpoint,
// so that the next studio finds the job interrupted and resumable rather than half-written.
process.once('disconnect', () => process.kill(process.pid, 'SIGINT'));

process.once('message', (job: WorkerJob) => {
  void run(job).then(
    async (result) => {
      await send({ type: 'result', result });
      process.exit(0);
    },
    async (e: unknown) => {
      const user = asUserError(e);
      const message =
        user instanceof UserError
          ? user.message
          : `${(e as Error)?.stack ?? String(e)}`.split('\n').slice(0, 6).join(' | ');
      await send({ type: 'error', message: message.split('\n').join(' · ') });
      process.exit(1);
    },
  );
});
