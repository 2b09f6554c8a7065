/** Every evaluation metric alembic reports, one module per family. */
export * from './common.js';
export * from './classification.js';
export * from './multilabel.js';
export * from './chunks.js';
export * from './spans.js';
export * from './regression.js';
export * from './ranking.js';
export * from './generation.js';
export { bleuTokens } from './bleu-tokenizers.js';
export { containsHan, hanCharTokens } from './text.js';
