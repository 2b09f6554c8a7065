/**
 * Evaluation shared out over the ranks of a data-parallel group: each rank runs the model on its own
 * contiguous slice of the examples, the slices' outputs are gathered to every rank, and every rank scores
 * the whole set's outputs. The scores are then those of one process over the whole set (F1, AUC and
 * ranking metrics are not means over slices), and every rank takes the same best-model and early-stopping
 * decision from them.
 *
 * The gather is two sums over the group's all-reduce (float64, so the numbers pass through exactly): each
 * rank writes its slice's row lengths, then its rows' numbers, at its slice's place in a zero-filled
 * buffer of the whole set's size; the sum over the ranks is the concatenation. Outputs' totals are added.
 *
 * Tasks that do not split their evaluation into outputs and scoring (tasks/task.ts: evalOutputs and
 * scoreOutputs) are evaluated over the whole set on every rank, as in one process.
 */
import type { ProcessGroup } from '../engine/distributed.js';
import type { AnyTask } from '../tasks/registry.js';
import type { EvalOutputs, EvalResult, TaskModel } from '../tasks/task.js';
import { dataParallel } from './data-parallel.js';

/** Rank `rank`'s slice [start, end) of `count` examples split as evenly as possible over `world` ranks. */
export function rankSlice(count: number, rank: number, world: number): { start: number; end: number } {
  return { start: Math.floor((count * rank) / world), end: Math.floor((count * (rank + 1)) / world) };
}

/** Whether the task's evaluation is shared out over the ranks (in a group), rather than run whole on each. */
export function evaluatesInParts(task: AnyTask): boolean {
  return dataParallel() !== undefined && task.evalOutputs !== undefined && task.scoreOutputs !== undefined;
}

/**
 * The task's evaluation of `model` on the examples: in a data-parallel group, each rank predicts its slice
 * and all score the whole set's gathered outputs; alone, or for a task that is evaluated whole, the task's
 * own evaluate().
 */
export function evaluateSharded(
  task: AnyTask,
  model: TaskModel<unknown>,
  examples: unknown[],
  features: unknown[],
  batchSize: number,
): EvalResult {
  const dp = dataParallel();
  if (!dp || !evaluatesInParts(task)) return task.evaluate(model, examples, features, batchSize);
  const { start, end } = rankSlice(features.length, dp.rank, dp.size);
  const mine = task.evalOutputs!(model, features.slice(start, end), batchSize);
  return task.scoreOutputs!(examples, features, gatherOutputs(dp.group, mine, features.length, start));
}

/**
 * Every rank's outputs for its slice (starting at example `start` of `count`), as one set's outputs on
 * every rank: rows in example order, totals added.
 */
export function gatherOutputs(
  group: ProcessGroup,
  mine: EvalOutputs,
  count: number,
  start: number,
): EvalOutputs {
  const sizes = new Array<number>(count + mine.sums.length).fill(0);
  mine.rows.forEach((row, i) => (sizes[start + i] = row.length));
  mine.sums.forEach((v, i) => (sizes[count + i] = v));
  const summed = group.sumNumbers(sizes);
  const lengths = summed.slice(0, count);
  const offsets = [0];
  for (const n of lengths) offsets.push(offsets[offsets.length - 1]! + n);
  const flat = new Array<number>(offsets[count]!).fill(0);
  let at = offsets[start]!;
  for (const row of mine.rows) for (const v of row) flat[at++] = v;
  const values = group.sumNumbers(flat);
  return {
    rows: lengths.map((_, i) => values.slice(offsets[i]!, offsets[i + 1]!)),
    sums: summed.slice(count),
  };
}
