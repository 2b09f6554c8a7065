/**
 * alembic's public API (`import { … } from 'alembic'`): Hugging Face-shaped prediction from a trained or
 * exported model directory, and the CLI's verbs as typed functions with progress events and cancellation.
 */
export {
  pipeline,
  type CallOptions,
  type Pipeline,
  type PipelineInput,
  type PipelineOptions,
  type PipelineResult,
  type QuestionContext,
  type TextPair,
} from './api/hf-pipeline.js';
export type { LabelScore } from './api/shape-classification.js';
export type { EntityGroup } from './api/shape-entities.js';
export type { Answer, GeneratedText, MatchScore } from './api/shape-answers.js';
export {
  advise,
  dataDistill,
  distill,
  evaluate,
  exportModel,
  train,
  type ConfigObject,
  type EvaluateOptions,
  type RunOptions,
  type TrainApiOptions,
} from './api/verbs.js';
export type { TrainEvent } from './train/train-events.js';
export type { TrainSummary } from './train/trainer.js';
export type { TrainConfig } from './config/run-config.js';
export type { EvalResult } from './tasks/task.js';
export type { ExportDirOptions, ExportReport } from './deploy/export/export-dir.js';
export type { DistillResult } from './distill/model/model-distillation.js';
export type { DataDistillReport } from './distill/data/data-distill-report.js';
export type { Advice } from './advise/advise.js';
export { UserError, InputError } from './util/errors.js';
