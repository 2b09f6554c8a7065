/**
 * 405 Method Not Allowed, with the `Allow` header, for a known path asked with a method it does not take
 * (HTTP says 404 means the path does not exist, which misleads a client that sent PUT /predict). fastify
 * has no such answer of its own: every route's methods are collected as routes are added, and the missing
 * methods of each path get a route answering 405.
 */
import type { FastifyInstance, HTTPMethods } from 'fastify';

const METHODS: HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

/**
 * Starts collecting routes on `app`; call the returned function once every route is registered (before
 * `ready()`) to add the 405 routes.
 */
export function methodNotAllowed(app: FastifyInstance): () => void {
  const byPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    let methods = byPath.get(route.url);
    if (!methods) byPath.set(route.url, (methods = new Set()));
    for (const m of [route.method].flat()) methods.add(m);
    // fastify answers HEAD for every GET route on its own.
    if (methods.has('GET')) methods.add('HEAD');
  });
  return () => {
    for (const [url, methods] of [...byPath]) {
      const allow = [...methods].sort().join(', ');
      const missing = METHODS.filter((m) => !methods.has(m));
      if (missing.length === 0) continue;
      app.route({
        method: missing,
        url,
        config: { undocumented: true },
        handler: (req, reply) => {
          void reply
            .code(405)
            .header('allow', allow)
            .send({ error: `${req.method} is not allowed on ${url}; use ${allow}` });
        },
      });
    }
  };
}
