/**
 * The /demo/ routes of `alembic serve`: the page, its bundled script, onnxruntime-web's wasm runtime
 * (from node_modules/onnxruntime-web/dist) and, per exported model, what the page needs to run it
 * (a small manifest, vocab.txt, model.onnx). Models that cannot run in a browser are listed with the reason.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ngramSpecOf } from '../../data/ngram-hash.js';
import type { ClassificationState } from '../../tasks/classification.js';
import { readDeployManifest } from '../export/manifest.js';
import type { RouteDoc } from '../serve/openapi.js';
import { BROWSER_TOKENIZERS, type BrowserModelSpec } from './browser-codec.js';
import { demoScript } from './bundle.js';
import { DEMO_HTML } from './page-html.js';

export interface DemoModel {
  name: string;
  dir: string;
}

interface DemoEntry {
  name: string;
  dir: string;
  unavailable?: string;
  spec?: BrowserModelSpec;
  onnxFile?: string;
}

/** The onnxruntime-web files the page loads: the wasm-only ES module and its one wasm binary. */
const ORT_FILES: Record<string, string> = {
  'ort.wasm.min.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.wasm': 'application/wasm',
};

/** Tasks the page can show (it decides labels from a `probabilities` output). */
const PAGE_TASKS = new Set(['text_classification', 'text_pair_classification', 'multi_label_classification']);

export function ortWebDist(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('onnxruntime-web'));
}

/** Reads a served model's directory and decides whether, and how, the page can run it. */
export function describeForBrowser(name: string, dir: string): DemoEntry {
  const m = readDeployManifest(dir);
  const entry: DemoEntry = { name, dir };
  const tokenizer = m.config.dataset.tokenizer;
  if (!m.onnx) entry.unavailable = 'not an exported model (run alembic export)';
  else if (!PAGE_TASKS.has(m.task)) entry.unavailable = `the page does not show ${m.task} models`;
  else if (!BROWSER_TOKENIZERS.includes(tokenizer.type))
    entry.unavailable = `the ${tokenizer.type} tokenizer does not run in a browser (use ${BROWSER_TOKENIZERS.join(', ')})`;
  if (entry.unavailable || !m.onnx) return entry;
  const state = m.state as ClassificationState;
  entry.onnxFile = path.join(dir, m.onnx.file);
  entry.spec = {
    name,
    task: m.task,
    net: m.net,
    tokenizer: {
      type: tokenizer.type,
      lowercase: tokenizer.lowercase ?? true,
      strip_accents: tokenizer.strip_accents,
      tokenize_chinese_chars: tokenizer.tokenize_chinese_chars,
      special_tokens: tokenizer.special_tokens,
    },
    maxLen: m.config.dataset.max_len,
    specials: m.net === 'transformer',
    ngrams: ngramSpecOf(m.config.model),
    labels: [...state.labels],
    threshold: state.threshold,
    inputs: m.onnx.inputs.map((i) => i.name),
    numericFeatures: [...state.numeric.names],
    int8: m.onnx.int8,
  };
  return entry;
}

const doc = (openapi: RouteDoc) => ({ config: { openapi } });
const notFound = { 404: { description: 'No such file or model.', schema: 'Error' } };

/** Each demo route's description in GET /openapi.json. */
const DEMO_DOCS = {
  redirect: {
    summary: 'Redirects to /demo/.',
    responses: { 302: { description: 'To /demo/.' } },
  },
  page: {
    summary: 'The in-browser demo page (the model runs in the browser with onnxruntime-web).',
    responses: { 200: { description: 'HTML.', schema: { type: 'string' }, contentType: 'text/html' } },
  },
  script: {
    summary: "The demo page's script.",
    responses: {
      200: { description: 'JavaScript.', schema: { type: 'string' }, contentType: 'text/javascript' },
    },
  },
  ort: {
    summary: "onnxruntime-web's files for the page.",
    params: { file: Object.keys(ORT_FILES).join(', ') },
    responses: {
      200: { description: 'The file.', schema: { type: 'string' }, contentType: 'application/octet-stream' },
      ...notFound,
    },
  },
  models: {
    summary: 'The served models the page can run, or why not.',
    responses: { 200: { description: 'The models.', schema: { type: 'object' } } },
  },
  file: {
    summary: "A browser model's files: manifest.json, vocab.txt, model.onnx.",
    params: { name: 'A model name.', file: 'manifest.json, vocab.txt or model.onnx' },
    responses: {
      200: { description: 'The file.', schema: { type: 'string' }, contentType: 'application/octet-stream' },
      ...notFound,
    },
  },
} satisfies Record<string, RouteDoc>;

export function registerDemoRoutes(app: FastifyInstance, models: readonly DemoModel[]): void {
  const entries = new Map(models.map((m) => [m.name, describeForBrowser(m.name, m.dir)]));
  const ortDir = ortWebDist();

  app.get('/demo', doc(DEMO_DOCS.redirect), (_req, reply) => reply.redirect('/demo/'));
  app.get('/demo/', doc(DEMO_DOCS.page), (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(DEMO_HTML),
  );
  app.get('/demo/app.js', doc(DEMO_DOCS.script), async (_req, reply) => {
    const script = await demoScript();
    return reply.type('text/javascript; charset=utf-8').send(script);
  });
  app.get<{ Params: { file: string } }>('/demo/ort/:file', doc(DEMO_DOCS.ort), (req, reply) => {
    const type = ORT_FILES[req.params.file];
    const file = path.join(ortDir, req.params.file);
    if (!type || !existsSync(file)) return reply.code(404).send({ error: `no file ${req.params.file}` });
    return reply.type(type).send(createReadStream(file));
  });
  app.get('/demo/models.json', doc(DEMO_DOCS.models), async () => ({
    models: [...entries.values()].map((e) => ({
      name: e.name,
      ...(e.spec ? { spec: e.spec } : { unavailable: e.unavailable }),
    })),
  }));
  app.get<{ Params: { name: string; file: string } }>(
    '/demo/models/:name/:file',
    doc(DEMO_DOCS.file),
    (req, reply) => {
      const e = entries.get(req.params.name);
      if (!e?.spec || !e.onnxFile)
        return reply.code(404).send({ error: `no browser model "${req.params.name}"` });
      if (req.params.file === 'model.onnx')
        return reply.type('application/octet-stream').send(createReadStream(e.onnxFile));
      if (req.params.file === 'vocab.txt')
        return reply.type('text/plain; charset=utf-8').send(createReadStream(path.join(e.dir, 'vocab.txt')));
      if (req.params.file === 'manifest.json') return reply.send(e.spec);
      return reply.code(404).send({ error: `no file ${req.params.file}` });
    },
  );
}
