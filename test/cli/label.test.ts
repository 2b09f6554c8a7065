/**
 * `alembic label` as real processes with a real (tiny) teacher: 2 and 3 workers started with torchrun's
 * environment write the single-process file byte for byte; a worker killed mid-shard (SIGKILL) and
 * started again leaves the merged file still identical; bad input ends with one line and exit 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/util/rng.js';
import { trainTinyBow } from '../helpers/tiny-export.js';
import { sentimentExample } from '../helpers/tiny-data.js';

const CLI = fileURLToPath(new URL('../../bin/alembic.js', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `alembic …` as worker `rank` of `world` (no rank for a plain single process). */
function alembic(args: string[], worker?: { rank: number; world: number }) {
  const env = { ...process.env };
  if (worker) {
    Object.assign(env, {
      RANK: String(worker.rank),
      WORLD_SIZE: String(worker.world),
      LOCAL_RANK: String(worker.rank),
      LOCAL_WORLD_SIZE: String(worker.world),
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: '29500',
    });
  }
  const child = spawn(process.execPath, [CLI, ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

let tiny: Awaited<ReturnType<typeof trainTinyBow>>;
let input: string;
let reference: Buffer;
const labelArgs = (output: string, extra: string[] = []) => [
  'label',
  '-m',
  tiny.modelDir,
  '-i',
  input,
  '-o',
  output,
  '--probabilities',
  '--batch-size',
  '7',
  '--threads',
  '1',
  '--quiet',
  ...extra,
];

before(async () => {
  tiny = await trainTinyBow({ examples: 60, epochs: 2, width: 8, maxLen: 16 });
  const rng = new Rng(5);
  input = path.join(tiny.dir, 'unlabelled.txt');
  writeFileSync(input, Array.from({ length: 3000 }, () => sentimentExample(rng).text).join('\n') + '\n');
  const single = path.join(tiny.dir, 'single.tsv');
  const r = await alembic(labelArgs(single)).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^3000 lines labelled → /);
  reference = readFileSync(single);
});
after(() => rmSync(tiny.dir, { recursive: true, force: true }));

test('--nproc 2 (the launcher) writes the single-process labels byte for byte', async () => {
  const output = path.join(tiny.dir, 'nproc-2', 'labelled.tsv');
  const r = await alembic(labelArgs(output, ['--nproc', '2'])).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^3000 lines labelled → .* \(rank 0 of 2: lines 1-1505\)/m);
  assert.match(r.stdout, /^\[rank 1\] shard done \(rank 1 of 2: lines 1506-3000\)/m);
  assert.ok(readFileSync(output).equals(reference), 'merged file differs from single-process labelling');
  assert.match(reference.toString('utf8').split('\n')[0], /^[^\t]+\t[^\t]+\t0\.\d{6} 0\.\d{6}$/);
});

test('3 workers started with torchrun’s environment write the single-process labels byte for byte', async () => {
  const output = path.join(tiny.dir, 'torchrun-3', 'labelled.tsv');
  const runs = await Promise.all(
    [0, 1, 2].map((rank) => alembic(labelArgs(output), { rank, world: 3 }).done),
  );
  runs.forEach((r, rank) => assert.equal(r.code, 0, `rank ${rank}: ${r.stderr}`));
  assert.match(runs[0].stdout, /^3000 lines labelled → /);
  assert.match(runs[2].stdout, /^shard done \(rank 2 of 3: lines 2003-3000\)/);
  assert.ok(readFileSync(output).equals(reference), 'merged file differs from single-process labelling');
});

test('a worker killed mid-shard and started again: the merged file is still the single-process one', async () => {
  const output = path.join(tiny.dir, 'killed', 'labelled.tsv');
  const args = labelArgs(output, ['--sync-every', '7', '--batch-size', '7']);
  const rank0 = alembic(args, { rank: 0, world: 2 });
  const victim = alembic(args, { rank: 1, world: 2 });
  const progress = path.join(`${output}.shards`, 'shard-1-of-2.tsv.partial.progress');
  // Kill rank 1 once it has made some of its shard durable, before it finishes.
  let killedAt = -1;
  while (killedAt < 0) {
    if (existsSync(progress)) {
      const m = JSON.parse(readFileSync(progress, 'utf8')) as { lines: number; complete: boolean };
      if (m.lines > 0) {
        victim.child.kill('SIGKILL');
        killedAt = m.complete ? Infinity : m.lines;
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const killed = await victim.done;
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok(killedAt < 1500, `rank 1 finished before it could be killed (${killedAt} lines)`);
  const restarted = await alembic(args, { rank: 1, world: 2 }).done;
  assert.equal(restarted.code, 0, restarted.stderr);
  const merged = await rank0.done;
  assert.equal(merged.code, 0, merged.stderr);
  assert.ok(readFileSync(output).equals(reference));
});

test('bad input: a missing model, an unreadable input, a line of the wrong shape: one line, exit 2', async () => {
  const out = path.join(tiny.dir, 'bad.tsv');
  const twoColumns = path.join(tiny.dir, 'two-columns.txt');
  writeFileSync(twoColumns, 'good film\nbad\tfilm\n');
  const cases: [string[], RegExp][] = [
    [
      ['label', '-m', path.join(tiny.dir, 'no-model'), '-i', input, '-o', out],
      /no-model: not an alembic model directory/,
    ],
    [
      ['label', '-m', tiny.modelDir, '-i', path.join(tiny.dir, 'no-input'), '-o', out],
      /no-input: cannot read the file/,
    ],
    [
      ['label', '-m', tiny.modelDir, '-i', twoColumns, '-o', out],
      /two-columns\.txt:2: expected 1 column \(text\)/,
    ],
    [['label', '-m', tiny.modelDir, '-o', out], /label: give --input \(or --merge <file>\)/],
    [['label', '--merge', out], /bad\.tsv\.shards: no finished shards to merge/],
    [['label', '-m', tiny.modelDir, '-i', input, '-o', out], /RANK=2: must be below WORLD_SIZE=2/],
  ];
  const runs = await Promise.all(
    cases.map(([args], i) =>
      i === cases.length - 1 ? alembic(args, { rank: 2, world: 2 }).done : alembic(args).done,
    ),
  );
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0].join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, cases[i][1]);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^alembic: /);
  });
});

test("an --output that labelling did not write (a user's file, or the input itself) is refused and left as it was", async () => {
  const mine = path.join(tiny.dir, 'my-notes.tsv');
  writeFileSync(mine, 'my own notes\tkeep\n');
  const sameAsInput = path.join(tiny.dir, 'in-and-out.txt');
  writeFileSync(sameAsInput, 'good film\nbad film\n');
  const cases: [string, string[]][] = [
    [mine, labelArgs(mine)],
    [sameAsInput, ['label', '-m', tiny.modelDir, '-i', sameAsInput, '-o', sameAsInput, '--quiet']],
  ];
  for (const [file, args] of cases) {
    const before = readFileSync(file);
    const r = await alembic(args).done;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^alembic: .*: exists and was not written by alembic's labelling/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(readFileSync(file), before);
  }
  // A labelling alembic wrote is its own: run again, it is reused as it is.
  const again = path.join(tiny.dir, 'again.tsv');
  assert.equal((await alembic(labelArgs(again)).done).code, 0);
  const second = await alembic(labelArgs(again)).done;
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(readFileSync(again), reference);
});
