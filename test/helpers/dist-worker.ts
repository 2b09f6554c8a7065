// One rank of the process-group tests (test/engine/distributed.test.ts): joins the group from its env and
// runs a scenario, printing what it saw as one JSON line on stdout. The inputs are functions of the rank
// (dist-tiny-model.ts), so the test can compute the expected results by hand in its own process.
import { tensor } from '../../src/engine/create.js';
import { GradientReducer, ProcessGroup, rankEnvFromProcess } from '../../src/engine/distributed.js';
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
  } else if (scenario === 'peer-exits' || scenario === 'peer-hangs') {
    group.barrier();
    if (rank === 1) {
      if (scenario === 'peer-exits') process.exit(3);
      await new Promise((resolve) => setTimeout(resolve, 60_000));
    }
    const started = Date.now();
    try {
      group.allreduceSum([tensor([1, 2, 3])]);
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
