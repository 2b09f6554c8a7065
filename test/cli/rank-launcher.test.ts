// The rank launcher: every child gets the torchrun env contract, output arrives prefixed by rank, a
// rank that fails stops its peers at once with an error that names it, and machines meet through a
// shared rendezvous file without a network listener.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { launchRequested, RankFailed, runRanks } from '../../src/cli/rank-launcher.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { sentimentExample, tempDir } from '../helpers/tiny-data.js';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin/alembic.js');

const node = (script: string) => [process.execPath, '-e', script];

test('each rank gets the env contract and its output is prefixed with its rank', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const script = `const e = process.env;
    console.log(JSON.stringify([e.RANK, e.LOCAL_RANK, e.WORLD_SIZE, e.LOCAL_WORLD_SIZE, e.MASTER_ADDR, e.MASTER_PORT, e.ALEMBIC_RANK_CHILD]));
    console.error('hello from ' + e.RANK);`;
  await runRanks(
    { nproc: 3, nnodes: 2, nodeRank: 1, masterAddr: '127.0.0.1', masterPort: 29999 },
    { command: node(script), stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
  );
  // Node 1 of 2 with 3 ranks each holds global ranks 3, 4, 5; none of them is rank 0, so all stdout is prefixed.
  const seen = out.map((line) => {
    const m = /^\[rank (\d)\] (.*)$/.exec(line);
    assert.ok(m, line);
    const fields = JSON.parse(m[2]!) as string[];
    assert.equal(fields[0], m[1]);
    return fields;
  });
  seen.sort((a, b) => Number(a[0]) - Number(b[0]));
  assert.deepEqual(seen, [
    ['3', '0', '6', '3', '127.0.0.1', '29999', '1'],
    ['4', '1', '6', '3', '127.0.0.1', '29999', '1'],
    ['5', '2', '6', '3', '127.0.0.1', '29999', '1'],
  ]);
  assert.deepEqual(err.sort(), ['[rank 3] hello from 3', '[rank 4] hello from 4', '[rank 5] hello from 5']);
});

test("rank 0's stdout stays plain; a free port is chosen on one machine", async () => {
  const out: string[] = [];
  await runRanks(
    { nproc: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1' },
    {
      command: node('console.log(process.env.RANK + " " + process.env.MASTER_PORT)'),
      stdout: (l) => out.push(l),
      stderr: () => {},
    },
  );
  const plain = out.find((l) => !l.startsWith('['));
  assert.ok(plain?.startsWith('0 '), out.join('|'));
  const port = Number(plain!.split(' ')[1]);
  assert.ok(port > 0 && port < 65536);
  assert.ok(out.includes(`[rank 1] 1 ${port}`), out.join('|'));
});

test('a rank that fails stops its peer at once and is named with its exit code', async () => {
  // Rank 0 would wait a minute; rank 1 exits with code 7 after a moment.
  const script = `if (process.env.RANK === '1') setTimeout(() => process.exit(7), 200); else setTimeout(() => {}, 60000);`;
  const started = Date.now();
  await assert.rejects(
    runRanks(
      { nproc: 2, nnodes: 1, nodeRank: 0, masterAddr: '127.0.0.1' },
      { command: node(script), stdout: () => {}, stderr: () => {}, killGraceMs: 500 },
    ),
    (e: unknown) => {
      assert.ok(e instanceof RankFailed);
      assert.equal(e.rank, 1);
      assert.equal(e.code, 7);
      assert.equal(e.exitCode, 7);
      assert.match(e.message, /rank 1 exited with code 7/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 20000, 'the peer was stopped, not waited for');
});

test('the launch flags: nothing without --nproc, a child never launches again, bad combinations are refused', () => {
  assert.equal(launchRequested({}, {}), undefined);
  assert.equal(launchRequested({ nproc: 2 }, { ALEMBIC_RANK_CHILD: '1' }), undefined);
  assert.deepEqual(launchRequested({ nproc: 2 }, {}), {
    nproc: 2,
    nnodes: 1,
    nodeRank: 0,
    masterAddr: '127.0.0.1',
    masterPort: undefined,
    rendezvousFile: undefined,
    timeoutSeconds: undefined,
  });
  assert.throws(() => launchRequested({ nproc: 2, nnodes: 2, nodeRank: 0 }, {}), UserError);
  assert.throws(
    () => launchRequested({ nproc: 2, nnodes: 2, nodeRank: 2, masterAddr: 'h', masterPort: 1 }, {}),
    UserError,
  );
  assert.throws(() => launchRequested({ masterPort: 1234 }, {}), UserError);
  // Several machines meet through a shared file (no address needed) or a TCP store, never both.
  assert.deepEqual(launchRequested({ nproc: 1, nnodes: 2, nodeRank: 1, rdzvFile: 'shared/rdzv' }, {}), {
    nproc: 1,
    nnodes: 2,
    nodeRank: 1,
    masterAddr: '',
    masterPort: undefined,
    rendezvousFile: path.resolve('shared/rdzv'),
    timeoutSeconds: undefined,
  });
  assert.throws(() => launchRequested({ nproc: 2, rdzvFile: 'f' }, {}), /several machines/);
  assert.throws(
    () => launchRequested({ nnodes: 2, nodeRank: 0, rdzvFile: 'f', masterAddr: 'h', masterPort: 1 }, {}),
    /one of them/,
  );
  assert.throws(() => launchRequested({ rdzvFile: 'f' }, {}), UserError);
  // A file that is not a rendezvous store (a user's file given by mistake) is refused, not used and removed.
  const mine = path.join(tempDir('alembic-rdzv-mine-'), 'notes.txt');
  writeFileSync(mine, 'my notes\n');
  assert.throws(
    () => launchRequested({ nnodes: 2, nodeRank: 0, rdzvFile: mine }, {}),
    /notes\.txt: this file holds something other than a rendezvous store/,
  );
  assert.equal(readFileSync(mine, 'utf8'), 'my notes\n');
  // A store a peer machine created already is taken: length-prefixed key and value.
  const peer = path.join(path.dirname(mine), 'peer.rdzv');
  const entry = (s: string) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(Buffer.byteLength(s)));
    return Buffer.concat([b, Buffer.from(s)]);
  };
  writeFileSync(peer, Buffer.concat([entry('/cleanup'), entry('1')]));
  assert.equal(launchRequested({ nnodes: 2, nodeRank: 1, rdzvFile: peer }, {})?.rendezvousFile, peer);
  // … also while the peer is writing its next string (its length is there, its bytes not yet).
  writeFileSync(peer, Buffer.concat([entry('/cleanup'), entry('1'), entry('rank/0').subarray(0, 10)]));
  assert.equal(launchRequested({ nnodes: 2, nodeRank: 1, rdzvFile: peer }, {})?.rendezvousFile, peer);
});

test('node-rank 0 says that a TCP store listens on every interface; a rendezvous file gives the ranks no address', async () => {
  const err: string[] = [];
  const out: string[] = [];
  const show = node(
    'console.log([process.env.MASTER_ADDR, process.env.MASTER_PORT, process.env.ALEMBIC_RENDEZVOUS_FILE].join(" "))',
  );
  await runRanks(
    { nproc: 1, nnodes: 2, nodeRank: 0, masterAddr: '127.0.0.1', masterPort: 29998 },
    { command: show, stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
  );
  assert.match(err.join('\n'), /TCP store listens on port 29998 of every interface/);
  err.length = 0;
  const file = path.join(tempDir('alembic-rdzv-'), 'rdzv');
  await runRanks(
    { nproc: 1, nnodes: 2, nodeRank: 0, masterAddr: '', rendezvousFile: file },
    { command: show, stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
  );
  assert.deepEqual(err, []);
  assert.equal(out[1], `  ${file}`);
});

test('two machines meet through a rendezvous file on shared storage and train as one group', async () => {
  const dir = tempDir('alembic-rdzv-train-');
  const lines = Array.from({ length: 24 }, (_, i) => sentimentExample(new Rng(i)));
  writeFileSync(path.join(dir, 'train.tsv'), lines.map((e) => `${e.text}\t${e.label}`).join('\n') + '\n');
  const config = path.join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      task: 'text_classification',
      dataset: { train: path.join(dir, 'train.tsv'), tokenizer: { type: 'char' }, max_len: 16 },
      model: { net: 'bow', embedding_dim: 8, hidden_size: 8 },
      trainer: {
        max_steps: 4,
        batch_size: 4,
        train_log_step: 1,
        threads: 1,
        output_dir: path.join(dir, 'out'),
      },
    }),
  );
  const rdzv = path.join(dir, 'shared', 'rdzv');
  mkdirSync(path.dirname(rdzv));
  // Two launchers, as on two machines; Gloo on loopback because both are this machine.
  const machine = (nodeRank: number) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const args = [BIN, 'train', '-c', config, '--quiet', '--nproc', '1', '--nnodes', '2'];
      const child = spawn(process.execPath, [...args, '--node-rank', String(nodeRank), '--rdzv-file', rdzv], {
        env: { ...process.env, GLOO_SOCKET_IFNAME: 'lo', ALEMBIC_DIST_TIMEOUT: '60' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  const [a, b] = await Promise.all([machine(0), machine(1)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(a.stderr, /data-parallel: 2 ranks/);
  assert.doesNotMatch(a.stderr + b.stderr, /listens on port/);
  const steps = readFileSync(path.join(dir, 'out', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { step?: number }).step ?? 0);
  assert.equal(Math.max(...steps), 4);
  assert.equal(existsSync(rdzv), false, 'the group removes its rendezvous file when it ends');
});
