/** The engine's public face: tensors, creation, scopes, functionals, modules, optimizers. */
export { Tensor, type DType, type Shape, type Reduction } from './tensor.js';
export * from './create.js';
export { tidy, noGrad, liveTensorCount } from './scope.js';
export * as F from './functional.js';
export { Module, ModuleDict } from './nn/module.js';
export { Linear } from './nn/linear.js';
export { Embedding } from './nn/embedding.js';
export { LayerNorm } from './nn/layer-norm.js';
export { Conv1d } from './nn/conv1d.js';
export { Dropout } from './nn/dropout.js';
export { LSTM, GRU, type RnnOptions } from './nn/rnn.js';
export { AdamW } from './optim/adamw.js';
export { SGD } from './optim/sgd.js';
export { Optimizer, type OptimizerState, type ParamGroup } from './optim/optimizer.js';
export { learningRateAt, type ScheduleKind } from './optim/schedule.js';
export { clipGradNorm, zeroGrad } from './optim/clip.js';
export { setNumThreads, getNumThreads, torchVersion, torchConfig } from './runtime.js';
