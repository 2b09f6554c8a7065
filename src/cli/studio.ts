/**
 * `alembic studio`: the local web app (src/studio) — data, advice, training with live curves, runs,
 * distillation and deployment in the browser — over one workspace folder. Bound to 127.0.0.1 unless
 * --host says otherwise; any other address needs the access token it prints. Runs until SIGINT/SIGTERM,
 * then stops running jobs at a checkpoint (resumable on the next start) and exits 0.
 */
import type { Command } from 'commander';
import { createStudio, STUDIO_DEFAULTS, type Studio } from '../studio/studio-server.js';
import { UserError } from '../util/errors.js';
import { nonNegativeInt, positiveInt, runCommand } from './run.js';

interface StudioFlags {
  port: number;
  host: string;
  workspace: string;
  maxUploadMb: number;
}

export function registerStudio(program: Command): void {
  program
    .command('studio')
    .description('the browser studio: upload data, get advice, train, compare, distil, export and try models')
    .option('-p, --port <n>', 'port (0 picks a free one)', nonNegativeInt('--port'), STUDIO_DEFAULTS.port)
    .option(
      '--host <address>',
      'address to listen on; anything but 127.0.0.1/localhost requires the printed access token',
      STUDIO_DEFAULTS.host,
    )
    .option(
      '-w, --workspace <dir>',
      'the folder the studio keeps data, runs and its database in',
      'studio-workspace',
    )
    .option(
      '--max-upload-mb <n>',
      'largest data file to upload, in MB (413 beyond)',
      positiveInt('--max-upload-mb'),
      STUDIO_DEFAULTS.maxUploadBytes / (1024 * 1024),
    )
    .action((flags: StudioFlags) => runCommand(() => studio(flags))());
}

async function studio(flags: StudioFlags): Promise<void> {
  const s: Studio = await createStudio({
    workspace: flags.workspace,
    host: flags.host,
    maxUploadBytes: flags.maxUploadMb * 1024 * 1024,
  });
  let address: string;
  try {
    address = await s.listen(flags.port);
  } catch (e) {
    await s.close();
    throw new UserError(`cannot listen on ${flags.host}:${flags.port}: ${(e as Error).message}`);
  }
  const lines = [`alembic studio: ${address}/  (workspace ${s.ctx.ws.root})`];
  if (s.token)
    lines.push(`  access token (also in ${s.ctx.ws.stateDir}/token): open ${address}/?token=${s.token}`);
  if (s.interrupted.length > 0)
    lines.push(
      `  ${s.interrupted.length} job(s) were running when the studio last stopped: marked interrupted, resume them from the runs page`,
    );
  process.stdout.write(lines.join('\n') + '\n');
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write(`alembic studio: ${signal} again, exiting without waiting\n`);
        process.exit(1);
      }
      stopping = true;
      process.stderr.write(`alembic studio: ${signal}: stopping jobs at a checkpoint…\n`);
      void s.close().then(resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  process.stderr.write('alembic studio: stopped\n');
}
