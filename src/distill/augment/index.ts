// Data-distillation augmentation (guide §6.3.2): the public surface for `alembic augment`.
export { augmentFile, type AugmentFileOptions, type AugmentFileResult } from './augment-file.js';
export {
  UNK_TOKEN,
  STRATEGY_NAMES,
  nSample,
  parseStrategies,
  posReplace,
  strategyChooser,
  unkNoise,
  type StrategyName,
  type StrategyWeights,
} from './strategies.js';
export { PosLexicon, type SameTagSampler } from './pos-lexicon.js';
export {
  functionTagger,
  jiebaWordTagger,
  lexiconTagger,
  readWordTagFile,
  type PosTagger,
  type WordPosFunction,
} from './pos-taggers.js';
export { HashSet64 } from './dedupe.js';
export { SegmentationDetector, joinWords, splitOnSpaces, type Segmentation } from './words.js';
export { createTextAnalyser, type AnalysedText, type TextAnalyser } from './text-analyser.js';
