/**
 * A raw TCP client for the service's tests: half-sent requests, stalled uploads and connections held
 * open — what fetch cannot do. Everything the server sends is collected, and `closed` resolves when the
 * server closes the connection.
 */
import net from 'node:net';

export interface RawConnection {
  socket: net.Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
  /** Resolves once `pattern` appears in what was received (rejects if the connection closes first). */
  waitFor(pattern: RegExp): Promise<string>;
}

/** Opens a connection to `base` (http://host:port) and sends `data` when given. */
export async function rawConnect(base: string, data?: string | Buffer): Promise<RawConnection> {
  const { hostname, port } = new URL(base);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {}); // a reset by the server shows as `closed`
  let text = '';
  const listeners = new Set<() => void>();
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    listeners.forEach((l) => l());
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (data !== undefined) socket.write(data);
  return {
    socket,
    received: () => text,
    closed,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(text)) {
            listeners.delete(check);
            resolve(text);
          }
        };
        listeners.add(check);
        check();
        void closed.then(() => {
          if (!pattern.test(text)) reject(new Error(`closed before ${pattern}; got: ${text.slice(0, 300)}`));
        });
      }),
  };
}

/** The head of a POST with a JSON body of `length` bytes (the body itself is sent separately). */
export function postHead(path: string, length: number, extra = ''): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${length}\r\n${extra}\r\n`
  );
}

/** Milliseconds until `p` settles. */
export async function timed(p: Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await p;
  return performance.now() - t0;
}
