// One data-parallel step on two ranks (gradients and loss averaged over the global batch during backward, and
// after it as the fallback; a frozen parameter broadcast, not reduced), then training end to end through the
// CLI: two ranks with batch_size 4 take the same steps as one process with batch_size 8 (weights equal within
// float tolerance), also when a rank gets no example of the last batch and when the training file is streamed
// (rank 0 indexes it, rank 1 reuses the index); a two-rank run stopped by a signal and resumed ends
// bit-identical to one that ran through; only rank 0 writes; a rank that dies stops the run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/run-config.js';
import { loadTensors } from '../../src/engine/state-io.js';
import { train } from '../../src/train/trainer.js';
import { assertClose, referenceStep } from '../helpers/dist-tiny-model.js';
import { runBoth } from '../helpers/run-dist-worker.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin/alembic.js');

/** 22 training examples: with a global batch of 8 the last batch of each epoch has 6 (rank 0: 4, rank 1: 2). */
function writeConfig(
  dir: string,
  name: string,
  batchSize: number,
  extra: Record<string, unknown> = {},
  trainExamples = 22,
): string {
  const files = writeSentimentSplits(dir, { train: trainExamples, dev: 8, test: 0 });
  const raw = {
    task: 'text_classification',
    dataset: { train: files.train, dev: files.dev, max_len: 16 },
    model: { net: 'cnn', embedding_dim: 8, num_filters: 4, dropout: 0 },
    trainer: {
      epochs: 3,
      batch_size: batchSize,
      learning_rate: 0.01,
      eval_step: 3,
      save_model_step: 3,
      train_log_step: 1,
      threads: 1,
      output_dir: path.join(dir, name),
      ...extra,
    },
  };
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(raw));
  return file;
}

function runCli(
  args: string[],
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr, child);
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function weightsOf(modelDir: string): Map<string, number[]> {
  const { tensors } = loadTensors(path.join(modelDir, 'model.safetensors'));
  return new Map([...tensors].map(([name, t]) => [name, t.toArray()]));
}

function lastCheckpoint(out: string): string {
  const steps = readdirSync(path.join(out, 'checkpoints'))
    .map((n) => Number(/^step_(\d+)$/.exec(n)?.[1]))
    .filter((n) => Number.isInteger(n));
  return path.join(out, 'checkpoints', `step_${Math.max(...steps)}`);
}

test('a data-parallel step averages gradients and loss over the global batch, during backward or after it', async () => {
  const expected = referenceStep();
  for (const [env, how] of [
    [{}, /in \d+ buckets? overlapped with backward \(c10d DDP reducer\)/],
    [
      { ALEMBIC_DDP_REDUCER: '0' },
      /MB of gradients [\d.]+ ms per step.*; in 1 bucket after backward: 0\.00 ms of it during backward/,
    ],
  ] as const) {
    for (const r of await runBoth('data-parallel-step', env)) {
      const grads = r.grads as number[][];
      expected.grads.forEach((e, i) => assertClose(grads[i]!, e));
      assertClose([r.meanLoss as number], [expected.lossSum / 8]);
      // Rank 0's value of the frozen parameter on both ranks, and no gradient.
      assert.deepEqual(r.frozen, [1, 5]);
      assert.equal(r.frozenGrad, null);
      assert.match(r.costLine as string, how);
    }
  }
});

test('two ranks × batch 4 train the same weights as one process with batch 8; only rank 0 writes', async () => {
  const dir = tempDir('alembic-ddp-');
  const single = writeConfig(dir, 'single', 8);
  const pair = writeConfig(dir, 'pair', 4);
  await train(parseConfig(JSON.parse(readFileSync(single, 'utf8')), single), { quiet: true, log: () => {} });
  const r = await runCli(['train', '-c', pair, '--nproc', '2', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  // Rank 0's summary alone, unprefixed, on stdout.
  const summary = JSON.parse(r.stdout) as { steps: number };
  assert.equal(summary.steps, 9);

  const a = weightsOf(lastCheckpoint(path.join(dir, 'single')));
  const b = weightsOf(lastCheckpoint(path.join(dir, 'pair')));
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [name, values] of a) {
    const other = b.get(name)!;
    values.forEach((v, i) => assert.ok(Math.abs(v - other[i]!) < 1e-4, `${name}[${i}]: ${v} vs ${other[i]}`));
  }
  // The logged loss is the global batch's: the same curve as the single process.
  const losses = (name: string) =>
    readFileSync(path.join(dir, name, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; loss?: number })
      .filter((e) => e.type === 'train')
      .map((e) => e.loss!);
  const la = losses('single');
  const lb = losses('pair');
  assert.equal(lb.length, la.length);
  la.forEach((v, i) => assert.ok(Math.abs(v - lb[i]!) < 1e-4, `loss ${i}: ${v} vs ${lb[i]}`));
  assert.ok(existsSync(path.join(dir, 'pair', 'best', 'model.safetensors')));
  assert.ok(existsSync(path.join(dir, 'pair', 'report.html')));
});

test('a last global batch that leaves rank 1 without examples still trains the weights of one process', async () => {
  // 19 examples: the last global batch of each epoch has 3, all rank 0's; rank 1 steps with a stand-in
  // weighted 0 (the reducer needs every rank's backward through the same parameters).
  const dir = tempDir('alembic-ddp-empty-');
  const single = writeConfig(dir, 'single', 8, {}, 19);
  const pair = writeConfig(dir, 'pair', 4, {}, 19);
  await train(parseConfig(JSON.parse(readFileSync(single, 'utf8')), single), { quiet: true, log: () => {} });
  const r = await runCli(['train', '-c', pair, '--nproc', '2', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { steps: number }).steps, 9);
  const a = weightsOf(lastCheckpoint(path.join(dir, 'single')));
  const b = weightsOf(lastCheckpoint(path.join(dir, 'pair')));
  for (const [name, values] of a) {
    const other = b.get(name)!;
    values.forEach((v, i) => assert.ok(Math.abs(v - other[i]!) < 1e-4, `${name}[${i}]: ${v} vs ${other[i]}`));
  }
});

test('a streamed training file over two ranks × batch 4 trains the weights of one in-memory process with batch 8', async () => {
  const dir = tempDir('alembic-ddp-stream-');
  const single = writeConfig(dir, 'single', 8);
  const pair = writeConfig(dir, 'pair', 4);
  const raw = JSON.parse(readFileSync(pair, 'utf8')) as { dataset: Record<string, unknown> };
  raw.dataset.streaming = true;
  writeFileSync(pair, JSON.stringify(raw));
  await train(parseConfig(JSON.parse(readFileSync(single, 'utf8')), single), { quiet: true, log: () => {} });
  const r = await runCli(['train', '-c', pair, '--nproc', '2', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  // Rank 0 indexed the file and fitted the vocabulary; rank 1 waited and reused both.
  assert.match(r.stderr, /^\[rank 0\] data: .* streamed a batch at a time/m);
  assert.match(
    r.stderr,
    /^\[rank 1\] data: rank 0 indexed the file: 22 examples, vocabulary and labels reused/m,
  );
  assert.equal((JSON.parse(r.stdout) as { steps: number }).steps, 9);

  const a = weightsOf(lastCheckpoint(path.join(dir, 'single')));
  const b = weightsOf(lastCheckpoint(path.join(dir, 'pair')));
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [name, values] of a) {
    const other = b.get(name)!;
    values.forEach((v, i) => assert.ok(Math.abs(v - other[i]!) < 1e-4, `${name}[${i}]: ${v} vs ${other[i]}`));
  }
});

test('a two-rank run stopped by SIGTERM and resumed ends bit-identical to an uninterrupted one', async () => {
  const dir = tempDir('alembic-ddp-resume-');
  const extra = { epochs: 6, save_model_step: 1 };
  const through = writeConfig(dir, 'through', 4, extra);
  const stopped = writeConfig(dir, 'stopped', 4, extra);
  const full = await runCli(['train', '-c', through, '--nproc', '2', '--quiet']);
  assert.equal(full.code, 0, full.stderr);

  // SIGTERM the launcher once rank 0 has written its second checkpoint.
  const out = path.join(dir, 'stopped');
  let sent = false;
  const first = await new Promise<Awaited<ReturnType<typeof runCli>>>((resolve) => {
    const poll = setInterval(() => {
      if (!sent && existsSync(path.join(out, 'checkpoints', 'step_2', 'trainer_state.json'))) {
        sent = true;
        child.kill('SIGTERM');
      }
    }, 5);
    const child = spawn(process.execPath, [BIN, 'train', '-c', stopped, '--nproc', '2', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, stdout: '', stderr });
    });
  });
  assert.ok(sent, 'the run ended before it could be stopped');
  assert.notEqual(first.code, 0, first.stderr);
  assert.match(first.stderr, /the launcher got SIGTERM/);
  const stoppedAt = Number(/step_(\d+)$/.exec(lastCheckpoint(out))![1]);
  assert.ok(stoppedAt >= 2 && stoppedAt < 18, `stopped at ${stoppedAt}`);

  const resumed = await runCli(['train', '-c', stopped, '--nproc', '2', '--quiet', '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const a = weightsOf(lastCheckpoint(path.join(dir, 'through')));
  const b = weightsOf(lastCheckpoint(out));
  for (const [name, values] of a) assert.deepEqual(b.get(name), values, name);
});

test('a rank that dies stops the run with an error naming it, and a non-zero exit', async () => {
  const dir = tempDir('alembic-ddp-kill-');
  const config = writeConfig(dir, 'run', 4, { epochs: 200, save_model_step: 1000, eval_step: 1000 });
  // SIGKILL rank 1 once training is under way (its progress lines have started).
  let killed = false;
  const r = await runCli(['train', '-c', config, '--nproc', '2', '--dist-timeout', '5'], (text, launcher) => {
    if (!killed && /step \d+\//.test(text)) killed = killRank(launcher.pid!, 1);
  });
  assert.ok(killed, r.stderr);
  assert.equal(r.code, 128 + 9, r.stderr);
  assert.match(r.stderr, /alembic: rank 1 was killed by SIGKILL; stopped the other ranks/);
});

/** SIGKILLs the child of `launcher` whose environment says RANK=<rank>; whether it found one. */
function killRank(launcher: number, rank: number): boolean {
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== launcher) continue;
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) continue;
      process.kill(Number(pid), 'SIGKILL');
      return true;
    } catch {
      // A process that ended meanwhile.
    }
  }
  return false;
}

test('multi-task training over two ranks × batch 4 equals one process with batch 8', async () => {
  const dir = tempDir('alembic-ddp-mt-');
  for (const sub of ['a', 'b']) mkdirSync(path.join(dir, sub));
  const a = writeSentimentSplits(path.join(dir, 'a'), { train: 22, dev: 0, test: 0 }, 1);
  const b = writeSentimentSplits(path.join(dir, 'b'), { train: 13, dev: 0, test: 0 }, 2);
  const config = (name: string, batchSize: number) => {
    const raw = {
      dataset: { max_len: 16 },
      model: { net: 'cnn', embedding_dim: 8, num_filters: 4, dropout: 0 },
      trainer: { epochs: 2, batch_size: batchSize, learning_rate: 0.01, threads: 1, output_dir: name },
      tasks: [
        { name: 'first', task: 'text_classification', train: a.train },
        { name: 'second', task: 'text_classification', train: b.train, weight: 0.5 },
      ],
    };
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(raw));
    return file;
  };
  const one = await runCli(['multitask', '-c', config('mt-one', 8)]);
  assert.equal(one.code, 0, one.stderr);
  const two = await runCli(['multitask', '-c', config('mt-two', 4), '--nproc', '2']);
  assert.equal(two.code, 0, two.stderr);
  for (const task of ['first', 'second']) {
    const x = weightsOf(path.join(dir, 'mt-one', 'best', task));
    const y = weightsOf(path.join(dir, 'mt-two', 'best', task));
    for (const [name, values] of x) {
      const other = y.get(name)!;
      values.forEach((v, i) =>
        assert.ok(Math.abs(v - other[i]!) < 1e-4, `${task} ${name}[${i}]: ${v} vs ${other[i]}`),
      );
    }
  }
});
