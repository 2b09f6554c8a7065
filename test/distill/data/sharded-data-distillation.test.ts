/**
 * Data distillation as a group of workers (in one process, as the ranks a launcher would start): every
 * rank labels a shard, rank 0 merges and runs the rest, the others follow its step records and end with
 * the same report. The labelled file equals a single-process run's byte for byte, and because the label
 * step's fingerprint does not depend on the number of workers, each run reuses the other's results.
 * Through the launcher (`--nproc 2`), rank 0 trains the students alone while rank 1 waits; a follower
 * whose rank 0 shows no sign of life fails after the timeout with one line naming the step.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDataDistillConfig } from '../../../src/distill/data/data-distill-config.js';
import { runDataDistill } from '../../../src/distill/data/data-distillation.js';
import { DistillLayout } from '../../../src/distill/data/layout.js';
import { UserError } from '../../../src/util/errors.js';
import { Rng } from '../../../src/util/rng.js';
import { trainTinyBow } from '../../helpers/tiny-export.js';
import { sentimentExample } from '../../helpers/tiny-data.js';

let tiny: Awaited<ReturnType<typeof trainTinyBow>>;
let unlabelled: string;
before(async () => {
  tiny = await trainTinyBow({ examples: 60, epochs: 2, width: 8, maxLen: 16, testExamples: 20 });
  const rng = new Rng(7);
  unlabelled = path.join(tiny.dir, 'unlabelled.txt');
  writeFileSync(unlabelled, Array.from({ length: 203 }, () => sentimentExample(rng).text).join('\n') + '\n');
});
after(() => rmSync(tiny.dir, { recursive: true, force: true }));

function rawConfig(work: string) {
  const student = {
    task: 'text_classification',
    dataset: { max_len: 16 },
    model: { net: 'bow', embedding_dim: 8, hidden_size: 8 },
    trainer: {
      epochs: 1,
      batch_size: 16,
      learning_rate: 0.01,
      eval_step: 1000,
      save_model_step: 1000,
      threads: 1,
    },
  };
  return {
    output_dir: work,
    data: { ...tiny.files, unlabelled },
    teacher: { model_dir: tiny.modelDir },
    labelling: { batch_size: 8, sync_every: 16, threads: 1, probabilities: true },
    students: [{ name: 'bow', config: student, gold_only: false }],
    report: { qps_examples: 5, qps_rounds: 1 },
  };
}

const config = (work: string) => parseDataDistillConfig(rawConfig(work), path.join(tiny.dir, 'dd.json'));

const quiet = { quiet: true, log: () => {} };
const stepRecord = (work: string, step: string) =>
  JSON.parse(readFileSync(path.join(new DistillLayout(work).steps, `${step}.json`), 'utf8')) as {
    fingerprint: string;
    status: string;
  };

test('two ranks label the pool as one process does, and both end with rank 0’s report', async () => {
  const single = path.join(tiny.dir, 'single');
  const sharded = path.join(tiny.dir, 'sharded');
  await runDataDistill(config(single), {
    ...quiet,
    worker: { rank: 0, world: 1, localRank: 0, localWorld: 1 },
  });
  const ranks = await Promise.all(
    [0, 1].map((rank) =>
      runDataDistill(config(sharded), {
        ...quiet,
        worker: { rank, world: 2, localRank: rank, localWorld: 2 },
      }),
    ),
  );
  const part1 = (work: string) => readFileSync(new DistillLayout(work).part1);
  assert.ok(part1(sharded).equals(part1(single)), 'part.1 differs from single-process labelling');
  assert.equal(stepRecord(sharded, 'label').fingerprint, stepRecord(single, 'label').fingerprint);
  assert.equal(JSON.stringify(ranks[1]), JSON.stringify(ranks[0]));
  assert.equal(ranks[0].data.labelled.lines, 203);
  assert.equal(existsSync(`${new DistillLayout(sharded).part1}.shards`), false);
});

test('a sharded run reuses a single-process run’s finished steps, labelling nothing again', async () => {
  const single = path.join(tiny.dir, 'single');
  const before = readFileSync(new DistillLayout(single).part1);
  const logs: string[] = [];
  const ranks = await Promise.all(
    [0, 1, 2].map((rank) =>
      runDataDistill(config(single), {
        quiet: true,
        log: (l) => logs.push(l),
        worker: { rank, world: 3, localRank: rank, localWorld: 3 },
      }),
    ),
  );
  assert.match(logs.join('\n'), /step label: done already/);
  assert.doesNotMatch(logs.join('\n'), /the teacher labels/);
  assert.equal(existsSync(`${new DistillLayout(single).part1}.shards`), false, 'no shard was written');
  assert.ok(readFileSync(new DistillLayout(single).part1).equals(before));
  assert.equal(JSON.stringify(ranks[2]), JSON.stringify(ranks[0]));
});

test('a follower whose rank 0 never shows up fails after the timeout, naming the step it waited for', async () => {
  const work = path.join(tiny.dir, 'no-leader');
  const started = Date.now();
  await assert.rejects(
    runDataDistill(config(work), {
      ...quiet,
      worker: { rank: 1, world: 2, localRank: 1, localWorld: 2 },
      leaderTimeoutMs: 1500,
    }),
    (e: Error) => {
      assert.ok(e instanceof UserError, e.stack);
      assert.equal(e.message.split('\n').length, 1);
      assert.match(
        e.message,
        /steps\/pool\.json: waited for rank 0 to finish step pool, .*rank-0\.alive has not changed for 1\.5 s/,
      );
      return true;
    },
  );
  const waited = Date.now() - started;
  assert.ok(waited >= 1500 && waited < 15_000, `failed after ${waited} ms`);
});

test('alembic data-distill --nproc 2: rank 0 trains the students alone, rank 1 follows to the same report', () => {
  const work = path.join(tiny.dir, 'launched');
  const file = path.join(tiny.dir, 'launched.json');
  writeFileSync(file, JSON.stringify(rawConfig(work)));
  const bin = path.resolve(import.meta.dirname, '..', '..', '..', 'bin', 'alembic.js');
  const r = spawnSync(
    process.execPath,
    [bin, 'data-distill', '-c', file, '--nproc', '2', '--dist-timeout', '60', '--json', '--quiet'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { data: { labelled: { lines: number } } };
  assert.equal(report.data.labelled.lines, 203);
  assert.ok(existsSync(new DistillLayout(work).reportJson));
});
