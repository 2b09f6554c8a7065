/**
 * init-config's text-classification BOW (fastText's recipe), model section and learning rate exactly as the
 * template writes them, so that the benchmarks measure what a new user trains.
 */
import { startingConfig } from '../src/config/config-template.js';
import { stripComments } from '../src/config/run-config.js';

const template = stripComments(startingConfig('text_classification', 'bow')) as {
  model: Record<string, unknown>;
  trainer: { learning_rate: number };
};

export const LINEAR_BOW = { model: template.model, learningRate: template.trainer.learning_rate };
