/**
 * Server-sent events for the pages' live views: the stored events of some jobs first (all of them, or
 * those after the browser's Last-Event-ID when it reconnects), then new ones as they happen. Each event
 * is `id: <n>`, `event: <type>` and `data: {type, jobId, time, …}`; a comment line every 15 s keeps
 * proxies from closing a quiet stream.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventRow, StudioDb } from './studio-db.js';
import type { JobManager } from './job-manager.js';

const KEEP_ALIVE_MS = 15_000;

export function streamEvents(
  req: FastifyRequest,
  reply: FastifyReply,
  db: StudioDb,
  jobs: JobManager,
  /** The jobs whose events to send; called again for live events (a run gains jobs as it resumes). */
  jobIds: () => number[],
): void {
  const last = Number(req.headers['last-event-id'] ?? 0);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const write = (e: EventRow) =>
    res.write(
      `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ type: e.type, jobId: e.jobId, time: e.time, ...e.data })}\n\n`,
    );
  let sent = Number.isFinite(last) ? last : 0;
  const send = (e: EventRow) => {
    if (e.id <= sent) return;
    write(e);
    sent = e.id;
  };
  // The database is synchronous and events are stored on this thread, so none can slip in between the
  // replay and the subscription.
  for (const e of db.events(jobIds(), sent)) send(e);
  const unsubscribe = jobs.subscribe((e) => {
    if (jobIds().includes(e.jobId)) send(e);
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  const end = () => {
    clearInterval(keepAlive);
    unsubscribe();
  };
  res.on('close', end);
  res.on('error', end);
}
