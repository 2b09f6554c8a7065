// One rank of the sharded-evaluation test (test/train/sharded-evaluation.test.ts): evaluates a stand-in
// task over COUNT examples through evaluateSharded and prints, as one JSON line, which examples this rank
// ran the "model" on and the outputs every rank scored. Each example's row is a function of its index
// (sharded-eval-rows.ts), its totals are 1 and i, so the test can compute the whole set's outputs by hand.
import type { AnyTask } from '../../src/tasks/registry.js';
import type { EvalOutputs, TaskModel } from '../../src/tasks/task.js';
import { dataParallel } from '../../src/train/data-parallel.js';
import { evaluateSharded } from '../../src/train/sharded-evaluation.js';
import { rowOf } from './sharded-eval-rows.js';

const count = Number(process.argv[2]);
const seen: number[] = [];
let scored: EvalOutputs | undefined;
const task = {
  evaluate: () => {
    throw new Error('the whole-set evaluate ran instead of the sharded one');
  },
  evalOutputs: (_model: unknown, features: number[]): EvalOutputs => {
    seen.push(...features);
    return { rows: features.map(rowOf), sums: [features.length, features.reduce((s, i) => s + i, 0)] };
  },
  scoreOutputs: (_examples: unknown[], _features: unknown[], outputs: EvalOutputs) => {
    scored = outputs;
    return { metrics: {} };
  },
} as unknown as AnyTask;
const features = Array.from({ length: count }, (_, i) => i);
evaluateSharded(task, {} as TaskModel<unknown>, features, features, 2);
process.stdout.write(JSON.stringify({ rank: dataParallel()!.rank, seen, scored }) + '\n');
dataParallel()!.group.close();
