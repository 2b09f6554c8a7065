/**
 * The advice page's routes: the advisor's recommendation for the form's answers (or a whole spec), and
 * "measure" — the candidates trained briefly on a data file of the workspace and timed on this machine, as
 * a background job whose result is the Pareto report.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { validateConfig } from '../config/run-config.js';
import { adviceFor, candidateIds } from './advice-form.js';
import { previewFile } from './file-preview.js';
import type { StudioContext } from './studio-server.js';

const measureSchema = z.object({
  file: z.string().min(1),
  dev_file: z.string().min(1).optional(),
  budget_seconds: z
    .number()
    .positive()
    .max(24 * 3600)
    .default(120),
});

/**
 * The form with what a data file of the workspace (`file`) tells: its task, example count and label
 * counts, for the fields the form leaves out.
 */
function withFileFacts(body: unknown, ctx: StudioContext): Record<string, unknown> {
  const b = { ...((body ?? {}) as Record<string, unknown>) };
  if (typeof b.file !== 'string' || b.spec !== undefined) return b;
  const p = previewFile(ctx.ws.dataFile(b.file));
  b.task ??= p.task ?? undefined;
  b.labelled ??= p.examples;
  if (
    b.labels === undefined &&
    b.num_labels === undefined &&
    b.task === p.task &&
    Object.keys(p.labels).length > 0
  )
    b.labels = p.labels;
  return b;
}

export function registerAdviceRoutes(app: FastifyInstance, ctx: StudioContext): void {
  app.post('/api/advice', async (req) => adviceFor(withFileFacts(req.body, ctx)).advice);

  app.post('/api/advice/measure', async (req, reply) => {
    const body = withFileFacts(req.body, ctx);
    const m = validateConfig(measureSchema, body, 'advice/measure');
    const { spec } = adviceFor(body);
    const candidates = candidateIds(body.candidates);
    const train = ctx.ws.dataFile(m.file);
    const dev = m.dev_file === undefined ? undefined : ctx.ws.dataFile(m.dev_file);
    const outDir = path.join(ctx.ws.stateDir, 'measure', `${Date.now()}`);
    const jobId = ctx.jobs.start(
      'advise-measure',
      null,
      { file: m.file, candidates },
      {
        kind: 'advise-measure',
        spec,
        train,
        dev,
        candidates,
        budgetSeconds: m.budget_seconds,
        outDir,
        specDir: ctx.ws.root,
      },
    );
    return reply.code(202).send({ jobId });
  });
}
