import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { labelFile, type LabelBatch, type TextRow } from '../../../src/distill/data/label-file.js';
import {
  labelSharded,
  mergeShards,
  shardDir,
  shardRange,
  type ShardedLabelOptions,
} from '../../../src/distill/data/label-shards.js';
import { UserError } from '../../../src/util/errors.js';
import { workerRank } from '../../../src/util/worker-rank.js';
import { tempDir } from '../../helpers/tiny-data.js';

const dir = tempDir('alembic-label-shards-');
after(() => rmSync(dir, { recursive: true, force: true }));

const texts = Array.from({ length: 103 }, (_, i) => `文${'长'.repeat((i * 7) % 11)}${i}`);
const input = path.join(dir, 'pool.txt');
writeFileSync(input, texts.join('\n') + '\n');

/**
 * A teacher whose output depends on the batch, as a padded batch's can: each probability is the text's
 * length over the longest text in its batch, and the label names the batch's first text. It records
 * every row it labels.
 */
function batchTeacher(seen: string[] = []): LabelBatch {
  return (rows: TextRow[]) => {
    const longest = Math.max(...rows.map((r) => r.text.length));
    return rows.map((r) => {
      seen.push(r.text);
      const p = r.text.length / (longest + 1);
      return { label: `after-${rows[0].text}`, probabilities: [1 - p, p] };
    });
  };
}

const BATCH = 10;
let runNo = 0;
function options(world: number, rank: number, extra: Partial<ShardedLabelOptions> = {}): ShardedLabelOptions {
  return {
    input,
    output: path.join(dir, `out-${runNo}`, 'part.1'),
    textColumns: 1,
    label: batchTeacher(),
    batchSize: BATCH,
    probabilities: true,
    fingerprint: 'teacher-A',
    syncEvery: 20,
    rank,
    world,
    pollMs: 10,
    ...extra,
  };
}

/** What one process writes: the reference every sharded run must equal byte for byte. */
async function singleProcess(): Promise<Buffer> {
  const output = path.join(dir, 'single', 'part.1');
  mkdirSync(path.dirname(output), { recursive: true });
  if (!existsSync(output)) await labelFile({ ...options(1, 0), output });
  return readFileSync(output);
}

/** Runs every rank of a group concurrently (rank 0 waits for the others and merges). */
async function shardedRun(world: number, extra: Partial<ShardedLabelOptions> = {}) {
  runNo++;
  mkdirSync(path.dirname(options(world, 0).output), { recursive: true });
  const results = await Promise.all(
    Array.from({ length: world }, (_, r) => labelSharded(options(world, r, extra))),
  );
  return { results, output: options(world, 0).output };
}

test('shards are whole batches of the single-process order, covering every line once', () => {
  for (const total of [0, 1, 9, 10, 11, 103, 1000]) {
    for (const world of [1, 2, 3, 7, 200]) {
      const ranges = Array.from({ length: world }, (_, r) => shardRange(total, BATCH, r, world));
      assert.equal(ranges[0].start, 0);
      assert.equal(ranges[world - 1].end, total);
      ranges.forEach((g, r) => {
        if (r > 0) assert.equal(g.start, ranges[r - 1].end, `total ${total}, world ${world}, rank ${r}`);
        assert.ok(g.start % BATCH === 0 || g.start === total);
      });
      // As even as whole batches allow: sizes differ by at most one batch.
      const sizes = ranges.map((g) => Math.ceil((g.end - g.start) / BATCH));
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }
  }
});

test('the fake teacher is batch-sensitive: a shard not on a batch boundary labels differently', async () => {
  const reference = (await singleProcess()).toString('utf8').split('\n');
  const output = path.join(dir, 'misaligned');
  await labelFile({ ...options(1, 0), output, range: { start: 5, end: 25 } });
  const shifted = readFileSync(output, 'utf8').split('\n').slice(0, 20);
  assert.notDeepEqual(shifted, reference.slice(5, 25));
});

for (const world of [2, 3, 20]) {
  test(`${world} workers write the single-process file byte for byte`, async () => {
    const reference = await singleProcess();
    const { results, output } = await shardedRun(world);
    assert.ok(readFileSync(output).equals(reference));
    assert.equal(results[0].merged, true);
    assert.deepEqual(
      results.map((r) => r.labelled),
      results.map((r) => r.shard.end - r.shard.start),
    );
    assert.equal(existsSync(shardDir(output)), false, 'the shards are removed once merged');
    // A rerun of any rank finds the merged file complete and labels nothing.
    const again = await labelSharded(options(world, world - 1, { label: batchTeacher() }));
    assert.equal(again.labelled, 0);
    assert.equal(again.merged, true);
  });
}

test('a worker stopped mid-shard (and crashed mid-write) resumes: nothing lost, nothing twice', async () => {
  const reference = await singleProcess();
  runNo++;
  mkdirSync(path.dirname(options(3, 0).output), { recursive: true });
  // Rank 1 stops after 20 of its lines (durable), then a crash leaves half a line behind.
  const stop = new AbortController();
  const first: string[] = [];
  const stopped = await labelSharded(
    options(3, 1, {
      label: batchTeacher(first),
      signal: stop.signal,
      onProgress: (done) => done >= 20 && stop.abort(),
    }),
  );
  assert.equal(stopped.complete, false);
  const partial = path.join(shardDir(options(3, 0).output), 'shard-1-of-3.tsv.partial');
  appendFileSync(partial, `${texts[stopped.shard.start + 20]}\tafter-半`);
  // Rank 0 and rank 2 finish; rank 0 waits; rank 1 restarts and continues at its 21st line.
  const second: string[] = [];
  const [r0, r1] = await Promise.all([
    labelSharded(options(3, 0)),
    labelSharded(options(3, 1, { label: batchTeacher(second) })),
    labelSharded(options(3, 2)),
  ]);
  assert.equal(r1.resumedAt, 20);
  assert.deepEqual(second, texts.slice(r1.shard.start + 20, r1.shard.end));
  assert.deepEqual([...first, ...second], texts.slice(r1.shard.start, r1.shard.end));
  assert.equal(r0.merged, true);
  assert.ok(readFileSync(options(3, 0).output).equals(reference));
});

test('rank 0 names the ranks whose shards stall; --merge names the unfinished ones', async () => {
  runNo++;
  mkdirSync(path.dirname(options(3, 0).output), { recursive: true });
  await labelSharded(options(3, 2));
  await assert.rejects(labelSharded(options(3, 0, { stallSeconds: 0.2 })), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /rank 1 of 3 made no labelling progress for 0 s/);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  assert.throws(
    () => mergeShards(options(3, 0).output),
    /part\.1\.shards: the shard of rank 1 of 3 is not finished/,
  );
  await labelSharded(options(3, 1));
  const merged = mergeShards(options(3, 0).output);
  assert.deepEqual(merged, { lines: 103, world: 3 });
  assert.ok(readFileSync(options(3, 0).output).equals(await singleProcess()));
  assert.throws(() => mergeShards(path.join(dir, 'nothing')), /nothing\.shards: no finished shards to merge/);
});

test('shards of another labelling (another fingerprint) are not merged', async () => {
  runNo++;
  mkdirSync(path.dirname(options(2, 0).output), { recursive: true });
  await labelSharded(options(2, 1, { fingerprint: 'teacher-B' }));
  await assert.rejects(
    labelSharded(options(2, 0, { stallSeconds: 0.2 })),
    /rank 1 of 2 made no labelling progress/,
  );
  const left = readdirSync(shardDir(options(2, 0).output));
  assert.ok(left.includes('shard-1-of-2.tsv.done'), 'the other labelling’s shard is left alone');
});

test('the rank environment: torchrun variables, defaults, and one-line errors', () => {
  assert.deepEqual(workerRank({}), {
    rank: 0,
    world: 1,
    localRank: 0,
    localWorld: 1,
    masterAddr: undefined,
    masterPort: undefined,
  });
  assert.deepEqual(
    workerRank({
      RANK: '3',
      WORLD_SIZE: '4',
      LOCAL_RANK: '1',
      LOCAL_WORLD_SIZE: '2',
      MASTER_ADDR: '10.0.0.1',
      MASTER_PORT: '29500',
    }),
    { rank: 3, world: 4, localRank: 1, localWorld: 2, masterAddr: '10.0.0.1', masterPort: 29500 },
  );
  assert.throws(() => workerRank({ RANK: '2', WORLD_SIZE: '2' }), /RANK=2: must be below WORLD_SIZE=2/);
  assert.throws(() => workerRank({ WORLD_SIZE: 'two' }), /WORLD_SIZE=two: expected an integer ≥ 1/);
});
