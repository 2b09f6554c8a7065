/**
 * The data page's routes: list the workspace's data files, upload one (streamed to disk, never over an existing file, refused with 413
 * past the size limit, never through a name that leaves data/), preview it, split it into train/dev/test.
 */
import { createWriteStream, existsSync, linkSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { previewFile } from './file-preview.js';
import { splitFile } from './file-split.js';
import type { StudioContext } from './studio-server.js';
import { StudioHttpError } from './workspace.js';

export function registerFileRoutes(app: FastifyInstance, ctx: StudioContext): void {
  const { ws } = ctx;

  app.get('/api/files', async () =>
    readdirSync(ws.dataDir, { withFileTypes: true })
      .filter((d) => d.isFile() && !d.name.startsWith('.'))
      .map((d) => {
        const s = statSync(path.join(ws.dataDir, d.name));
        return { name: d.name, size: s.size, modified: s.mtime.toISOString() };
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
  );

  app.post('/api/files', { bodyLimit: ctx.maxUploadBytes }, async (req, reply) => {
    const name = (req.query as Record<string, unknown>).name;
    const file = ws.dataPathForWrite(name);
    if (existsSync(file))
      throw new StudioHttpError(
        409,
        `a data file "${path.basename(file)}" exists already; upload under another name`,
      );
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > ctx.maxUploadBytes) throw tooLarge(ctx.maxUploadBytes);
    const body = req.body as Readable | undefined;
    if (body === undefined || typeof (body as Readable).pipe !== 'function')
      throw new StudioHttpError(
        415,
        'upload the file as the raw body, Content-Type: application/octet-stream',
      );
    const tmp = `${file}.upload-${process.pid}-${Date.now()}`;
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > ctx.maxUploadBytes) done(tooLarge(ctx.maxUploadBytes));
        else done(null, chunk);
      },
    });
    // Created before the pipeline starts: a write stream opening its file itself could create it after an early
    // over-the-limit error had already removed it, leaving the partial upload behind.
    const fd = openSync(tmp, 'wx');
    try {
      await pipeline(body, limit, createWriteStream(tmp, { fd }));
      // Another upload of the same name may have finished meanwhile: link fails rather than replace it.
      linkSync(tmp, file);
      rmSync(tmp);
    } catch (e) {
      rmSync(tmp, { force: true });
      const code = (e as { code?: string }).code;
      if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw tooLarge(ctx.maxUploadBytes);
      if (code === 'EEXIST')
        throw new StudioHttpError(409, `a data file "${path.basename(file)}" exists already`);
      throw e;
    }
    return reply.code(201).send({ name: path.basename(file), size: bytes });
  });

  app.get('/api/files/:name/preview', async (req) =>
    previewFile(ws.dataFile((req.params as { name: string }).name)),
  );

  app.post('/api/files/:name/split', async (req) =>
    splitFile(ws.dataFile((req.params as { name: string }).name), req.body),
  );
}

function tooLarge(limit: number): StudioHttpError {
  return new StudioHttpError(
    413,
    `the upload is larger than the studio's limit of ${limit} bytes (--max-upload-mb)`,
  );
}
