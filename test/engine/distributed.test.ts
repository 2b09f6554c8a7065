// The c10d process group across two real processes on loopback: all-reduce, broadcast and the bucketed
// gradient reducer against hand computation, and a dead or silent peer turning into a clear error within
// the timeout instead of a hang.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, runRanks } from '../../src/cli/rank-launcher.js';
import { tensor } from '../../src/engine/create.js';
import { params, rowLoss, rowsOf } from '../helpers/dist-tiny-model.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'dist-worker.ts');
const command = (scenario: string) => [process.execPath, '--import', 'tsx', worker, scenario];

/** Runs both ranks through the launcher; returns each rank's JSON line. */
async function runBoth(scenario: string): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const errors: string[] = [];
  await runRanks(
    { nproc: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1', timeoutSeconds: 30 },
    { command: command(scenario), stdout: (l) => lines.push(l), stderr: (l) => errors.push(l) },
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${errors.join('\n')}`);
  });
  return lines
    .map((l) => JSON.parse(l.replace(/^\[rank \d+\] /, '')) as Record<string, unknown>)
    .sort((a, b) => (a.rank as number) - (b.rank as number));
}

function assertClose(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) =>
    assert.ok(
      Math.abs(v - expected[i]!) <= tol * (1 + Math.abs(expected[i]!)),
      `${i}: ${v} vs ${expected[i]}`,
    ),
  );
}

test('all-reduce, broadcast and the gradient reducer across two processes match hand computation', async () => {
  const [r0, r1] = await runBoth('collectives');
  for (const r of [r0!, r1!]) {
    // all-reduce: the element-wise sum of both ranks' inputs ([r+1, 2r, -r, 0.5] and [10r+1, 3]).
    assert.deepEqual(r.allreduce, [
      [1 + 2, 0 + 2, 0 - 1, 1],
      [1 + 11, 6],
    ]);
    // broadcast from rank 1: rank 1's [11, 12] everywhere.
    assert.deepEqual(r.broadcast, [11, 12]);
    assert.deepEqual(r.sumNumbers, [1, 0.5, 2e15 + 1]);
    // 16-byte buckets: the 24-byte weight alone, then bias and extra (8 bytes each) together.
    assert.equal(r.buckets, 2);
  }
  // The reducer: the gradient of the mean loss over all 8 rows (3 on rank 0, 5 on rank 1), plus rank 1's
  // extra term weighted by its 5 of 8 rows — computed here in one process.
  const { weight, bias, extra } = params();
  const all = [...rowsOf(0), ...rowsOf(1)];
  const rowTerm = rowLoss(tensor(all.flat(), [all.length, 3]), weight, bias).sum();
  rowTerm
    .div(all.length)
    .add(
      extra
        .mul(extra)
        .sum()
        .mul(5 / 8),
    )
    .backward();
  const expected = [weight, bias, extra].map((p) => p.grad!.toArray());
  for (const r of [r0!, r1!]) {
    const grads = r.grads as number[][];
    expected.forEach((e, i) => assertClose(grads[i]!, e));
  }
  // The extra value summed over ranks: Σ loss_r · n_r = Σ_rows rowLoss + 5 · extra·extra.
  const lossSum = rowTerm.item() + 5 * (1.5 * 1.5 + 2 * 2);
  assertClose([r0!.lossSum as number, r1!.lossSum as number], [lossSum, lossSum]);
});

/** Runs the two ranks as plain processes (no launcher to stop the survivor) over a TCP store. */
async function runUnsupervised(scenario: string, timeoutSeconds: number) {
  const port = await freePort();
  const ranks = [0, 1].map((rank) => {
    const [exe, ...args] = command(scenario);
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

test('a peer that exits makes the next collective fail at once with an error naming the rank', async () => {
  const r = await runUnsupervised('peer-exits', 20);
  assert.equal(r.errorName, 'DistributedError');
  assert.match(r.error!, /^rank 0: all-reduce failed: .* a peer rank stopped or did not answer within 20 s$/);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
});

test('a peer that stays silent makes the collective fail after the timeout, not hang', async () => {
  const r = await runUnsupervised('peer-hangs', 2);
  assert.equal(r.errorName, 'DistributedError');
  assert.match(r.error!, /^rank 0: all-reduce failed: .*within 2 s$/);
  assert.ok(r.ms >= 1500 && r.ms < 15_000, `took ${r.ms} ms`);
});
