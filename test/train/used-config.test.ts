import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/run-config.js';
import { usedConfig } from '../../src/train/used-config.js';

test("the report's config shows only the model keys the net and task read", () => {
  const config = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: 'train.tsv' },
      model: { net: 'cnn', num_filters: 64 },
      trainer: { output_dir: 'out' },
    },
    'c.json',
  );
  const model = (usedConfig(config) as { model: Record<string, unknown> }).model;
  assert.equal(model.net, 'cnn');
  assert.equal(model.num_filters, 64);
  assert.ok('kernel_widths' in model && 'embedding_dim' in model && 'dropout' in model);
  for (const unused of ['num_heads', 'ffn_size', 'head', 'bidirectional', 'num_layers', 'hidden_size'])
    assert.ok(!(unused in model), `${unused} is not shown for a CNN`);
  const tagger = parseConfig(
    {
      task: 'sequence_labeling',
      dataset: { train: 't.tsv' },
      model: { net: 'lstm' },
      trainer: { output_dir: 'out' },
    },
    't.json',
  );
  const tags = (usedConfig(tagger) as { model: Record<string, unknown> }).model;
  assert.ok('head' in tags && 'bidirectional' in tags && !('num_heads' in tags));
});
