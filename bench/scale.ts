/**
 * bench:scale — the three ways alembic outgrows one process, measured in one run with the measurements of
 * the benches that cover each alone (imported, not copied):
 *   (a) memory: peak RSS of training over generated files of 10⁵, 10⁶ and 10⁷ lines, streamed (all sizes)
 *       and read into memory (up to --in-memory-up-to; the in-memory RSS of the larger files is projected
 *       from the measured slope, not run), and the ratio largest ÷ smallest per mode (bench/streaming.ts).
 *       Each run first reads the whole file (in memory: read and encode it; streamed: the index pass that
 *       validates it and counts the vocabulary), then trains one epoch on files up to --epoch-up-to lines
 *       and --steps steps on larger ones (an epoch over 10⁷ lines is hours on this machine);
 *   (b) data-parallel training: examples per second of 1 process × 2 threads against 2 processes × 1
 *       thread on the same global batch, and the gradient all-reduce's share of a step
 *       (bench/data-parallel.ts);
 *   (c) teacher labelling: lines per second of 1 worker against 2 (`alembic label --nproc 2`), and whether
 *       both write the same bytes (bench/label-scale.ts).
 *
 *   npm run bench:scale [-- --sizes 100000,1000000,10000000] [--in-memory-up-to 1000000]
 *                       [--epoch-up-to 100000] [--steps 300] [--threads 1] [--dp-steps 30]
 *                       [--unlabelled 3000] [--rounds 1] [--only a,b,c]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareProcesses, type ProcessComparison } from './data-parallel.js';
import { measureLabelling, type LabellingRun } from './label-scale.js';
import { measureStreaming, printStreaming, type StreamingRun } from './streaming.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000,10000000' },
    'in-memory-up-to': { type: 'string', default: '1000000' },
    'epoch-up-to': { type: 'string', default: '100000' },
    steps: { type: 'string', default: '300' },
    threads: { type: 'string', default: '1' },
    'dp-steps': { type: 'string', default: '30' },
    unlabelled: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string', default: 'a,b,c' },
  },
});
const only = new Set(values.only.split(','));
const fmt = (n: number) => n.toLocaleString('en');

let memory: StreamingRun[] = [];
if (only.has('a')) {
  console.log('\n(a) peak RSS while training, streamed vs in memory\n');
  const sizes = values.sizes.split(',').map(Number);
  const inMemoryUpTo = Number(values['in-memory-up-to']);
  const epochUpTo = Number(values['epoch-up-to']);
  console.log(
    `training: one epoch over files up to ${fmt(epochUpTo)} lines, ${values.steps} steps (batch 64) over ` +
      `larger ones; every run reads its whole file first. In memory only up to ${fmt(inMemoryUpTo)} lines.`,
  );
  memory = measureStreaming({
    sizes,
    steps: Number(values.steps),
    threads: Number(values.threads),
    inMemoryUpTo,
    epochUpTo,
  });
  printStreaming(memory);
  const inMemory = memory.filter((r) => r.mode === 'in memory');
  const largest = sizes[sizes.length - 1]!;
  if (inMemory.length >= 2 && largest > inMemory[inMemory.length - 1]!.size) {
    const [a, b] = inMemory.slice(-2) as [StreamingRun, StreamingRun];
    const perLine = (b.peakRssMiB - a.peakRssMiB) / (b.size - a.size);
    const projected = b.peakRssMiB + perLine * (largest - b.size);
    console.log(
      `\nnot run: ${fmt(largest)} lines in memory. PROJECTION from the measured ` +
        `${(perLine * 2 ** 20).toFixed(0)} bytes of RSS per line: about ${(projected / 1024).toFixed(1)} GiB ` +
        `peak RSS (this machine has ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB).`,
    );
  }
}

let processes: ProcessComparison | undefined;
if (only.has('b')) {
  console.log('\n(b) data-parallel training: 1 process × 2 threads vs 2 processes × 1 thread\n');
  processes = compareProcesses({ steps: Number(values['dp-steps']), nproc: 2, threads: 2 });
}

let labelling: { lines: number; runs: LabellingRun[] } | undefined;
if (only.has('c')) {
  console.log('\n(c) teacher labelling: 1 worker vs 2 workers\n');
  const out = mkdtempSync(path.join(os.tmpdir(), 'alembic-bench-scale-label-'));
  try {
    labelling = await measureLabelling({
      out,
      unlabelled: Number(values.unlabelled),
      rounds: Number(values.rounds),
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

console.log('\nsummary');
const streamed = memory.filter((r) => r.mode === 'streamed');
if (streamed.length >= 2) {
  const [small, large] = [streamed[0]!, streamed[streamed.length - 1]!];
  console.log(
    `  (a) streamed peak RSS ${streamed.map((r) => `${r.peakRssMiB.toFixed(0)} MiB`).join(' / ')} for ` +
      `${streamed.map((r) => fmt(r.size)).join(' / ')} lines: ${(large.peakRssMiB / small.peakRssMiB).toFixed(2)}× ` +
      `for a ${large.size / small.size}× file`,
  );
}
if (processes) {
  const share = processes.allReduce?.shareOfStep;
  console.log(
    `  (b) 2 processes × 1 thread ${processes.processes.toFixed(0)} examples/s vs 1 process × 2 threads ` +
      `${processes.oneProcess.toFixed(0)} (${(processes.processes / processes.oneProcess).toFixed(2)}×)` +
      (share !== undefined ? `; all-reduce ${share}% of a step` : ''),
  );
}
if (labelling) {
  const [twoThreads, oneThread, twoWorkers] = labelling.runs as [LabellingRun, LabellingRun, LabellingRun];
  console.log(
    `  (c) 2 workers × 1 thread ${twoWorkers.withoutStartup.toFixed(0)} lines/s without start-up vs 1 worker × 1 ` +
      `thread ${oneThread.withoutStartup.toFixed(0)} (${(twoWorkers.withoutStartup / oneThread.withoutStartup).toFixed(2)}×) ` +
      `and 1 worker × 2 threads ${twoThreads.withoutStartup.toFixed(0)} ` +
      `(${(twoWorkers.withoutStartup / twoThreads.withoutStartup).toFixed(2)}×); same bytes as 1 worker × 1 thread: ` +
      `${twoWorkers.sameBytesAsOneThread ? 'yes' : 'no'}`,
  );
}
