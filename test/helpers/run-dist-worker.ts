// Runs a scenario of dist-worker.ts on two ranks, as the process-group tests do: through the launcher
// (each rank's JSON line, rank 0's first), or as two plain processes with no launcher to stop the survivor
// when its peer dies (rank 0's line).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, runRanks } from '../../src/cli/rank-launcher.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dist-worker.ts');

/** The command line of one rank running `scenario`. */
export const workerCommand = (scenario: string): string[] => [
  process.execPath,
  '--import',
  'tsx',
  worker,
  scenario,
];

export async function runBoth(
  scenario: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const errors: string[] = [];
  await runRanks(
    { nproc: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', timeoutSeconds: 30 },
    {
      command: workerCommand(scenario),
      env,
      stdout: (l) => lines.push(l),
      stderr: (l) => errors.push(l),
    },
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${errors.join('\n')}`);
  });
  return lines
    .map((l) => JSON.parse(l.replace(/^\[rank \d+\] /, '')) as Record<string, unknown>)
    .sort((a, b) => (a.rank as number) - (b.rank as number));
}

/** Runs the two ranks as plain processes (no launcher to stop the survivor) over a TCP store. */
export async function runUnsupervised(scenario: string, timeoutSeconds: number) {
  const port = await freePort();
  const ranks = [0, 1].map((rank) => {
    const [exe, ...args] = workerCommand(scenario);
    const child = spawn(exe!, args, {
      env: {
        ...process.env,
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        RANK: String(rank),
        WORLD_SIZE: '2',
        ALEMBIC_DIST_TIMEOUT: String(timeoutSeconds),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );
    return { child, done };
  });
  const r0 = await ranks[0]!.done;
  ranks[1]!.child.kill('SIGKILL');
  await ranks[1]!.done;
  assert.equal(r0.code, 0, r0.stderr);
  return JSON.parse(r0.stdout) as { error: string | null; errorName: string; ms: number };
}
