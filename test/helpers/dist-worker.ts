// One rank of the process-group tests (test/engine/distributed.test.ts): joins the group from its env and
// runs a scenario, printing what it saw as one JSON line on stdout. The inputs are functions of the rank
// (dist-tiny-model.ts), so the test can compute the expected results by hand in its own process.
import { tensor } from '../../src/engine/create.js';
import { DdpReducer } from '../../src/engine/ddp-reducer.js';
import { zeroGrad } from '../../src/engine/optim/clip.js';
import { tidy } from '../../src/engine/scope.js';
import { GradientReducer, ProcessGroup, rankEnvFromProcess } from '../../src/engine/distributed.js';
import { DataParallel } from '../../src/train/data-parallel.js';
import { params, rowLoss, rowsOf } from './dist-tiny-model.js';

async function main(): Promise<void> {
  const scenario = process.argv[2];
  const env = rankEnvFromProcess();
  if (!env) throw new Error('dist-worker: WORLD_SIZE is not set');
  const group = ProcessGroup.join(env);
  const rank = group.rank;
  const out: Record<string, unknown> = { rank };
  if (scenario === 'collectives') {
    const a = tensor([rank + 1, 2 * rank, -rank, 0.5]);
    const b = tensor([10 * rank + 1, 3], [2], 'float64');
    group.allreduceSum([a, b]);
    const c = tensor([rank * 10 + 1, rank * 10 + 2]);
    group.broadcast([c], 1);
    group.barrier();
    out.allreduce = [a.toArray(), b.toArray()];
    out.broadcast = c.toArray();
    out.sumNumbers = group.sumNumbers([rank, 0.25, 1e15 + rank]);

    const { weight, bias, extra } = params();
    const rows = rowsOf(rank);
    let loss = rowLoss(tensor(rows.flat(), [rows.length, 3]), weight, bias).mean([0]);
    if (rank === 1) loss = loss.add(extra.mul(extra).sum());
    loss.backward();
    // Tiny buckets, so there are several and one holds two parameters.
    const reducer = new GradientReducer(group, [weight, bias, extra], 16);
    const [lossSum] = reducer.reduce(rows.length, rowsOf(0).length + rowsOf(1).length, [
      loss.item() * rows.length,
    ]);
    out.buckets = reducer.buckets.length;
    out.lossSum = lossSum;
    out.grads = [weight, bias, extra].map((p) => p.grad?.toArray() ?? null);
  } else if (scenario === 'ddp-reducer') {
    // The same step through c10d's DDP reducer: each rank's loss weighted by rows × world ÷ all rows, plus a
    // parameter no rank uses; three steps, so the hooks are re-armed and .grad rebuilt each time.
    const { weight, bias, extra } = params();
    const unused = tensor([7, 8]);
    unused.requiresGrad = true;
    const rows = rowsOf(rank);
    const total = rowsOf(0).length + rowsOf(1).length;
    // 16-byte buckets, closed once full: weight (24 bytes), bias and extra (8 each), unused.
    const reducer = DdpReducer.create(group, [weight, bias, extra, unused], 16, 16);
    for (let step = 0; step < 3; step++) {
      zeroGrad([weight, bias, extra, unused]);
      tidy(() => {
        let loss = rowLoss(tensor(rows.flat(), [rows.length, 3]), weight, bias).mean([0]);
        if (rank === 1) loss = loss.add(extra.mul(extra).sum());
        reducer.backward(loss.mul((rows.length * group.size) / total));
      });
    }
    out.buckets = reducer.buckets;
    out.grads = [weight, bias, extra, unused].map((p) => p.grad?.toArray() ?? null);
    const t = reducer.timings();
    out.timings = [t.computeMs, t.commMs, t.overlapMs];
    reducer.close();
  } else if (scenario === 'data-parallel-step') {
    // One step as the training loop takes it on a rank: DataParallel broadcasts rank 0's parameters (a
    // frozen one too, which differs per rank and gets no gradient), runs backward, averages the loss.
    const { weight, bias, extra } = params();
    const frozen = tensor([rank + 1, 5 - rank]);
    const dp = new DataParallel(group);
    const step = dp.start([weight, bias, extra, frozen]);
    const rows = rowsOf(rank);
    const total = rowsOf(0).length + rowsOf(1).length;
    zeroGrad([weight, bias, extra, frozen]);
    out.meanLoss = tidy(() => {
      let loss = rowLoss(tensor(rows.flat(), [rows.length, 3]), weight, bias).mean([0]);
      if (rank === 1) loss = loss.add(extra.mul(extra).sum());
      if (step.backward) step.backward(loss, rows.length, total);
      else loss.backward();
      return step.afterBackward(rows.length, total, loss.item());
    });
    dp.finish();
    out.grads = [weight, bias, extra].map((p) => p.grad?.toArray() ?? null);
    out.frozen = frozen.toArray();
    out.frozenGrad = frozen.grad?.toArray() ?? null;
    out.costLine = dp.costLine();
  } else if (['peer-exits', 'peer-hangs', 'ddp-peer-exits', 'ddp-peer-hangs'].includes(scenario!)) {
    // The collective rank 0 is left alone in: a plain all-reduce, or a backward through the DDP reducer.
    const { weight, bias } = params();
    const ddp = scenario!.startsWith('ddp-') ? DdpReducer.create(group, [weight, bias]) : undefined;
    group.barrier();
    if (rank === 1) {
      if (scenario!.endsWith('peer-exits')) process.exit(3);
      await new Promise((resolve) => setTimeout(resolve, 60_000));
    }
    const started = Date.now();
    try {
      if (ddp) ddp.backward(rowLoss(tensor(rowsOf(0).flat(), [3, 3]), weight, bias).mean([0]));
      else group.allreduceSum([tensor([1, 2, 3])]);
      out.error = null;
    } catch (e) {
      out.error = (e as Error).message;
      out.errorName = (e as Error).name;
    }
    out.ms = Date.now() - started;
  } else {
    throw new Error(`dist-worker: unknown scenario ${scenario}`);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  group.close();
}

await main();
