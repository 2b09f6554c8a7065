/**
 * Who may use the studio. On 127.0.0.1 (the default) only this machine can reach it, and requests must
 * name a loopback host (a web page elsewhere cannot reach it through DNS rebinding). On any other address
 * every request must carry the workspace's access token — `Authorization: Bearer <token>`, or the `token`
 * cookie the studio sets when the page is opened as `/?token=<token>` — else 401. The token is generated
 * once, kept in the workspace readable by its owner only (mode 0600), and printed when the studio starts.
 * The one cookie is read by hand: a single `name=value` pair needs no cookie library.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const TOKEN_COOKIE = 'token';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The workspace's token, made (and written with mode 0600) on first use. */
export function accessToken(stateDir: string): string {
  const file = path.join(stateDir, 'token');
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 32) return token;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

/** The host part of a Host header ("127.0.0.1:7860" → "127.0.0.1", "[::1]:7860" → "::1"). */
function hostName(header: string | undefined): string {
  const h = header ?? '';
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  return h.split(':')[0];
}

/**
 * Installs the check on every request. `token` undefined: a loopback bind, where only loopback Host
 * headers are accepted.
 */
export function installAccessCheck(app: FastifyInstance, token: string | undefined): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (token === undefined) {
      if (!isLoopback(hostName(req.headers.host)))
        return reply.code(403).send({ error: `refused: the studio answers requests to 127.0.0.1 only` });
      return;
    }
    const query = (req.query ?? {}) as Record<string, unknown>;
    const fromQuery = typeof query.token === 'string' ? query.token : undefined;
    if (
      fromQuery !== undefined &&
      sameToken(fromQuery, token) &&
      req.method === 'GET' &&
      !req.url.startsWith('/api/')
    ) {
      // Opening the printed link: keep the token in a cookie and drop it from the address bar.
      reply.header(
        'set-cookie',
        `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      );
      return reply.redirect(req.url.split('?')[0] || '/');
    }
    if (sameToken(bearer(req.headers.authorization), token)) return;
    if (sameToken(cookieValue(req.headers.cookie, TOKEN_COOKIE), token)) return;
    return reply.code(401).send({
      error:
        'the studio needs its access token: open the link it printed, or send Authorization: Bearer <token>',
    });
  });
}
