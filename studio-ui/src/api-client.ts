// The studio's REST client: one place that turns HTTP failures into readable messages (the server
// answers errors as JSON {error}) and waits on background jobs, so screens only deal with data.
import type { Job } from './studio-contract.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
type Body = unknown;

export async function api<T>(method: string, path: string, body?: Body): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} };
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    init.body = body;
    (init.headers as Record<string, string>)['content-type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data: unknown = text;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // A non-JSON answer (an HTML report, a curl snippet) is returned as text.
  }
  if (!res.ok) {
    const msg =
      data && typeof data === 'object' && 'error' in data
        ? String((data as { error: unknown }).error)
        : typeof data === 'string' && data
          ? data
          : `${res.status} ${res.statusText}`;
    throw new ApiError(msg, res.status);
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: Body) => api<T>('POST', path, body ?? {});

export const enc = encodeURIComponent;

/** A job is live while 'running'; every other status is final. */
export function jobDone(j: Job): boolean {
  return j.status !== 'running';
}

/** Polls a job until it leaves the queued/running states; `onUpdate` sees every poll. */
export async function waitJob(id: number, onUpdate?: (j: Job) => void, everyMs = 500): Promise<Job> {
  for (;;) {
    const j = await get<Job>(`/api/jobs/${enc(id)}`);
    onUpdate?.(j);
    if (jobDone(j)) return j;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
