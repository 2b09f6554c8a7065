/**
 * One optimisation step as every trainer here takes it: the scheduled learning rate, fresh gradients,
 * an optional hook on the gradients, a stop on a non-finite loss, gradient clipping, the update.
 */
import { clipGradNorm, zeroGrad } from '../engine/optim/clip.js';
import type { Optimizer } from '../engine/optim/optimizer.js';
import { learningRateAt } from '../engine/optim/schedule.js';
import { tidy } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import { UserError } from '../util/errors.js';
import type { TrainerConfig } from '../config/run-config.js';

export interface StepPlan {
  trainer: TrainerConfig;
  optimizer: Optimizer;
  /** Every parameter the optimizer updates (gradients zeroed and clipped together). */
  params: Tensor[];
  warmupSteps: number;
  totalSteps: number;
  /**
   * Runs after backward, before clipping and the update (e.g. averaging gradients across processes); it may
   * return the loss to report and check instead of this process's own (the mean over all processes).
   */
  afterBackward?: (params: Tensor[], loss: number) => number | void;
}

/**
 * Takes step `step` (0-based): `lossAndBackward` computes the loss, calls backward and returns the loss
 * value (inside a tidy scope). `what` names the loss in the divergence error ("loss", "ner loss").
 */
export function optimizerStep(
  plan: StepPlan,
  step: number,
  lossAndBackward: () => number,
  what = 'loss',
): number {
  const t = plan.trainer;
  plan.optimizer.learningRate = learningRateAt(step, {
    base: t.learning_rate,
    warmupSteps: plan.warmupSteps,
    totalSteps: plan.totalSteps,
    kind: t.lr_schedule,
  });
  zeroGrad(plan.params);
  const own = tidy(lossAndBackward);
  const loss = plan.afterBackward?.(plan.params, own) ?? own;
  if (!Number.isFinite(loss))
    throw new UserError(
      `training diverged at step ${step + 1} (${what} ${loss}); lower trainer.learning_rate`,
    );
  if (t.max_grad_norm > 0) clipGradNorm(plan.params, t.max_grad_norm);
  plan.optimizer.step();
  return loss;
}
