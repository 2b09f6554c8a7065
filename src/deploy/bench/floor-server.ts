/**
 * The HTTP floor of the benchmark (run as a child process by http-bench.ts): fastify as `alembic serve`
 * configures it, answering POST /predict with a fixed prediction per text — HTTP, JSON in and JSON out, but
 * no validation, tokeniser, batcher, model or metrics. What it sustains on a machine bounds what any model
 * behind alembic serve can sustain there.
 */
import Fastify from 'fastify';
import { SERVE_DEFAULTS } from '../serve/server.js';

const app = Fastify({ logger: false, bodyLimit: SERVE_DEFAULTS.bodyLimitBytes, return503OnClosing: true });
const prediction = { label: 'a', labels: ['a'], probabilities: { a: 0.75, b: 0.25 } };
app.post('/predict', async (req) => {
  const texts = (req.body as { texts?: unknown[] } | null)?.texts;
  return { model: 'floor', predictions: (Array.isArray(texts) ? texts : []).map(() => prediction) };
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`alembic floor server: listening on ${address}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
