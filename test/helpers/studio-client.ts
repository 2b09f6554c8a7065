/**
 * Talking to a studio in tests: requests through fastify's inject, the tiny BOW config the runs use, an SSE
 * reader, and a wait for a job's next event of some type.
 */
import assert from 'node:assert/strict';
import type { Studio } from '../../src/studio/studio-server.js';

export type Json = Record<string, unknown>;

/** A request through fastify's inject: a Buffer body goes as a raw upload, anything else as JSON. */
export async function call(
  s: Studio,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const raw = Buffer.isBuffer(body);
  const r = await s.app.inject({
    method: method as 'GET',
    url,
    payload: body === undefined ? undefined : raw ? (body as Buffer) : JSON.stringify(body),
    headers: {
      ...(body !== undefined && { 'content-type': raw ? 'application/octet-stream' : 'application/json' }),
      ...headers,
    },
  });
  const parsed = (() => {
    try {
      return JSON.parse(r.body) as unknown;
    } catch {
      return r.body;
    }
  })();
  return {
    status: r.statusCode,
    body: parsed as Json & unknown[],
    text: r.body,
    raw: r.rawPayload,
    headers: r.headers,
  };
}

/** A request that must succeed (2xx); its parsed answer. */
export async function ok(s: Studio, method: string, url: string, body?: unknown) {
  const r = await call(s, method, url, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** A one-epoch BOW run config on data/train.tsv, dev.tsv, test.tsv of the workspace. */
export const tinyConfig = (over: Json = {}) => ({
  task: 'text_classification',
  dataset: { train: 'data/train.tsv', dev: 'data/dev.tsv', test: 'data/test.tsv', max_len: 16 },
  model: { net: 'bow', embedding_dim: 16, hidden_size: 16 },
  trainer: { epochs: 1, batch_size: 16, threads: 1, learning_rate: 0.01, ...over },
});

/** Reads an SSE stream until an event of one of `until` types arrives; returns the events' data. */
export async function readEvents(url: string, until: string[], timeoutMs = 120_000): Promise<Json[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const res = await fetch(url, { signal: ac.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events: Json[] = [];
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString('utf8');
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const e = JSON.parse(data.slice(6)) as Json;
        events.push(e);
        if (until.includes(String(e.type))) return events;
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

/** Resolves with the first event of `type` (of job `jobId`, when given) the studio's jobs send. */
export function nextEvent(s: Studio, type: string, jobId?: number): Promise<Json> {
  return new Promise((resolve) => {
    const off = s.ctx.jobs.subscribe((e) => {
      if (e.type === type && (jobId === undefined || e.jobId === jobId)) {
        off();
        resolve(e.data);
      }
    });
  });
}
