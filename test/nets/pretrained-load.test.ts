import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { full, manualSeed } from '../../src/engine/create.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { saveTensors } from '../../src/engine/state-io.js';
import { noteCheckpointShape, withCheckpointShape } from '../../src/nets/build.js';
import { loadPretrained } from '../../src/nets/pretrained.js';
import { parseConfig } from '../../src/config/run-config.js';
import { TransformerEncoder, type TransformerOptions } from '../../src/nets/transformer.js';
import { tempDir } from '../helpers/tiny-data.js';

const small: TransformerOptions = {
  vocabSize: 30,
  hiddenSize: 8,
  numLayers: 2,
  numHeads: 2,
  ffnSize: 16,
  maxPositions: 16,
  dropout: 0,
  attentionDropout: 0,
};

/** A checkpoint dir holding `source`'s weights under `bert.` plus `extra` tensors (no pooler). */
function writeCheckpoint(
  source: TransformerEncoder,
  extra: [string, Tensor][] = [],
  vocabLines = 30,
): string {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, Tensor>(
    [...source.stateDict()].filter(([n]) => !n.startsWith('pooler.')).map(([n, t]) => [`bert.${n}`, t]),
  );
  for (const [n, t] of extra) tensors.set(n, t);
  saveTensors(path.join(dir, 'model.safetensors'), tensors);
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      model_type: 'bert',
      vocab_size: 30,
      hidden_size: 8,
      num_hidden_layers: 2,
      num_attention_heads: 2,
    }),
  );
  writeFileSync(
    path.join(dir, 'vocab.txt'),
    Array.from({ length: vocabLines }, (_, i) => `t${i}`).join('\n') + '\n',
  );
  return dir;
}

test('a complete checkpoint with an MLM head loads every encoder tensor and warns about nothing', () => {
  manualSeed(21);
  const source = new TransformerEncoder(small);
  const dir = writeCheckpoint(source, [['cls.predictions.bias', full([30], 0.5)]]);
  const target = new TransformerEncoder(small);
  const warnings: string[] = [];
  const r = loadPretrained(target, dir, { warn: (m) => warnings.push(m) });
  assert.deepEqual(warnings, []);
  assert.deepEqual(r.unused, []);
  assert.deepEqual(r.ignored, ['cls.predictions.bias']);
  // Everything but the pooler (which a masked-LM checkpoint does not have) now equals the source.
  const copied = [...source.stateDict()].filter(([n]) => !n.startsWith('pooler.'));
  assert.equal(r.loaded, copied.length);
  for (const [name, t] of copied)
    assert.deepEqual(target.stateDict().get(name)!.toArray(), t.toArray(), name);
});

test('checkpoint tensors that load nowhere are reported and warned about, known heads are not', () => {
  manualSeed(22);
  const source = new TransformerEncoder(small);
  const dir = writeCheckpoint(source, [
    ['cls.predictions.bias', full([30], 0)],
    ['bert.encoder.layer.0.attention.self.rotary.weight', full([8], 0)],
    // Names that map onto a parameter this encoder was not built with (no task-type embedding).
    ['bert.embeddings.task_type_embeddings.weight', full([3, 8], 0)],
  ]);
  const warnings: string[] = [];
  const r = loadPretrained(new TransformerEncoder(small), dir, { warn: (m) => warnings.push(m) });
  assert.deepEqual(r.unused.sort(), [
    'bert.embeddings.task_type_embeddings.weight',
    'bert.encoder.layer.0.attention.self.rotary.weight',
  ]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /2 checkpoint tensor\(s\) match no parameter/);
  assert.match(warnings[0], /rotary/);
  assert.doesNotMatch(warnings[0], /cls\.predictions/);
});

test('a vocab.txt longer than the word embedding is refused', () => {
  manualSeed(23);
  const dir = writeCheckpoint(new TransformerEncoder(small), [], 31);
  assert.throws(
    () => loadPretrained(new TransformerEncoder(small), dir, { warn: () => {} }),
    /vocab\.txt: 31 tokens, but the checkpoint's word embedding has only 30 rows/,
  );
  // Fewer tokens than rows is fine (some checkpoints pad the embedding).
  const padded = writeCheckpoint(new TransformerEncoder(small), [], 28);
  assert.equal(loadPretrained(new TransformerEncoder(small), padded, { warn: () => {} }).unused.length, 0);
});

test('the checkpoint shape replacing the model section is said once, naming what changed', () => {
  manualSeed(24);
  const dir = writeCheckpoint(new TransformerEncoder(small));
  const given = parseConfig(
    {
      task: 'text_classification',
      dataset: { train: 'x.tsv' },
      model: { net: 'transformer', pretrained_dir: dir, hidden_size: 256, num_layers: 4 },
      trainer: { output_dir: 'run' },
    },
    path.join(dir, 'c.json'),
  ).model;
  const lines: string[] = [];
  noteCheckpointShape(given, withCheckpointShape(given), (m) => lines.push(m));
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^pretrained: the checkpoint's shape replaces the config's model\.hidden_size 256 → 8, model\.num_layers 4 → 2/,
  );
  noteCheckpointShape(withCheckpointShape(given), withCheckpointShape(given), (m) => lines.push(m));
  assert.equal(lines.length, 1);
});
