/**
 * GET /openapi.json, built from the routes the server actually registers: every route carries its
 * description in fastify's route `config.openapi` (a RouteDoc), an onRoute hook collects them, and the
 * document is assembled from that list — so it cannot drift from the routes. A route registered without a
 * description fails the server's start (unless marked `undocumented`, as the generated 405 answers are).
 */
import type { FastifyInstance } from 'fastify';
import { API_SCHEMAS, schemaRef } from './api-schemas.js';

type Schema = Record<string, unknown>;

export interface ResponseDoc {
  description: string;
  /** A component name from api-schemas.ts, or an inline schema. */
  schema?: string | Schema;
  /** Default application/json. */
  contentType?: string;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  /** Path parameter name → description. */
  params?: Record<string, string>;
  /** Component name of the JSON request body. */
  requestBody?: string;
  responses: Record<number, ResponseDoc>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's OpenAPI description. */
    openapi?: RouteDoc;
    /** A route deliberately left out of the document (the generated 405 answers). */
    undocumented?: boolean;
  }
}

export interface DocumentedRoute {
  method: string;
  /** fastify's form, e.g. /models/:name/predict. */
  url: string;
  doc: RouteDoc;
}

/**
 * Starts collecting `app`'s routes (call before registering any); the returned list fills as routes are
 * added. HEAD routes fastify adds for GET routes are left out, as are routes marked undocumented.
 */
export function collectRoutes(app: FastifyInstance): DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (route) => {
    const cfg = route.config as { openapi?: RouteDoc; undocumented?: boolean } | undefined;
    if (cfg?.undocumented) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      if (!cfg?.openapi) throw new Error(`route ${method} ${route.url} has no openapi description`);
      routes.push({ method, url: route.url, doc: cfg.openapi });
    }
  });
  return routes;
}

/** fastify's /a/:b → OpenAPI's /a/{b}. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function schemaOf(s: string | Schema): Schema {
  return typeof s === 'string' ? schemaRef(s) : s;
}

export function openApiDocument(routes: readonly DocumentedRoute[], version: string): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const r of routes) {
    const p = openApiPath(r.url);
    const names = [...r.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    const operation: Schema = {
      operationId: `${r.method.toLowerCase()}${p.replace(/[^A-Za-z0-9]+(.)?/g, (_, c?: string) => (c ?? '').toUpperCase())}`,
      summary: r.doc.summary,
      ...(r.doc.description ? { description: r.doc.description } : {}),
      ...(names.length
        ? {
            parameters: names.map((name) => ({
              name,
              in: 'path',
              required: true,
              description: r.doc.params?.[name] ?? name,
              schema: { type: 'string' },
            })),
          }
        : {}),
      ...(r.doc.requestBody
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaRef(r.doc.requestBody) } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(r.doc.responses).map(([code, res]) => [
          code,
          {
            description: res.description,
            ...(res.schema
              ? { content: { [res.contentType ?? 'application/json']: { schema: schemaOf(res.schema) } } }
              : {}),
          },
        ]),
      ),
    };
    (paths[p] ??= {})[r.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'alembic prediction service',
      version,
      description:
        'Predictions from alembic models. POST /predict takes alembic\'s {"texts"} / {"pairs"} or the Hugging Face Inference shape {"inputs", "parameters"}.',
    },
    paths,
    components: { schemas: API_SCHEMAS },
  };
}
