/**
 * Stopping a run after a number of steps, built from the trainer's generic options (an AbortSignal and
 * a per-step callback) rather than a count the trainer has to know about. The run stops as an
 * interrupted one does: a checkpoint is written and `resume` continues it. advise's probe runs use it,
 * and so do the tests that interrupt a run on purpose.
 */
import type { TrainOptions } from './trainer.js';

/** Options that stop a run after `steps` optimizer steps of this run (counting from its start). */
export function stopAfterSteps(steps: number): Required<Pick<TrainOptions, 'signal' | 'onStep'>> {
  const controller = new AbortController();
  let taken = 0;
  return {
    signal: controller.signal,
    onStep: () => {
      taken++;
      if (taken === steps) controller.abort();
    },
  };
}
