/**
 * What a training run reports as it goes, for a library caller (the public API's `onProgress`): the CLI
 * prints progress to stderr instead. A discriminated union, so a `switch (e.type)` is checked exhaustively.
 */
export type TrainEvent =
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number }
  | { type: 'eval'; step: number; metrics: Record<string, number>; best: boolean }
  | { type: 'checkpoint'; step: number; dir: string }
  | { type: 'done'; step: number; interrupted: boolean; outputDir: string };
