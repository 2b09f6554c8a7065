/**
 * Learning-rate schedules as pure functions of the step, so resuming at step N gives the same rate.
 */
export type ScheduleKind = 'linear' | 'cosine' | 'constant';

/** Linear warm-up from 0 to the base rate over `warmupSteps`, then linear/cosine decay to 0 at `totalSteps`. */
export function learningRateAt(
  step: number,
  {
    base,
    warmupSteps,
    totalSteps,
    kind = 'linear',
  }: { base: number; warmupSteps: number; totalSteps: number; kind?: ScheduleKind },
): number {
  if (warmupSteps > 0 && step < warmupSteps) return (base * (step + 1)) / warmupSteps;
  if (kind === 'constant' || totalSteps <= warmupSteps) return base;
  const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
  if (kind === 'cosine') return base * 0.5 * (1 + Math.cos(Math.PI * progress));
  return base * (1 - progress);
}
