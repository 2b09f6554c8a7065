/**
 * The HTTP server under the service, built here (fastify's serverFactory) so that slow and stalled
 * clients cannot hold it: a client must send its headers within `headersTimeoutMs` and its whole request
 * within `requestTimeoutMs` (else 408 and the connection is closed), an idle kept-alive connection is
 * closed after `idleTimeoutMs`, and at most `maxConnections` are open at once (more are closed as they
 * arrive). Node checks the first two only every `connectionsCheckingInterval` (30 s by default), which
 * would stretch a 1 s limit to 30 s: the interval is made a fraction of the shortest limit.
 */
import http from 'node:http';
import { UserError } from '../../util/errors.js';

export interface ConnectionLimits {
  /** Longest time to receive a whole request (headers and body), in ms. */
  requestTimeoutMs: number;
  /** Longest time to receive a request's headers, in ms (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** A kept-alive connection with no request for this long is closed, in ms. */
  idleTimeoutMs: number;
  /** Most connections open at once. */
  maxConnections: number;
}

export const CONNECTION_DEFAULTS: ConnectionLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  // Above the 60 s idle timeout of common load balancers, so they never reuse a connection we closed.
  idleTimeoutMs: 72_000,
  maxConnections: 1024,
};

export function checkConnectionLimits(l: ConnectionLimits): void {
  if (l.headersTimeoutMs > l.requestTimeoutMs)
    throw new UserError(
      `the header timeout (${l.headersTimeoutMs} ms) is longer than the request timeout (${l.requestTimeoutMs} ms)`,
    );
}

/** A fastify serverFactory creating a Node HTTP server with these limits. */
export function limitedServerFactory(l: ConnectionLimits): (handler: http.RequestListener) => http.Server {
  return (handler) => {
    const server = http.createServer(
      {
        requestTimeout: l.requestTimeoutMs,
        headersTimeout: l.headersTimeoutMs,
        connectionsCheckingInterval: Math.max(
          25,
          Math.min(1000, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4)),
        ),
      },
      handler,
    );
    server.keepAliveTimeout = l.idleTimeoutMs;
    server.maxConnections = l.maxConnections;
    return server;
  };
}
