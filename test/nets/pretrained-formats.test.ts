import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { manualSeed } from '../../src/engine/create.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { saveTensors } from '../../src/engine/state-io.js';
import { transformerOptions } from '../../src/nets/build.js';
import { loadPretrained } from '../../src/nets/pretrained.js';
import { TransformerEncoder, type TransformerOptions } from '../../src/nets/transformer.js';
import { parseConfig } from '../../src/config/run-config.js';
import { loadModelDir, MODEL_FILE } from '../../src/train/model-dir.js';
import { train } from '../../src/train/trainer.js';
import {
  writePdparams,
  writeTorchTensors,
  writeTorchZip,
  type PlainTensor,
  type TorchView,
} from '../helpers/checkpoint-writers.js';
import { global, pickle, reduce, tuple } from '../helpers/pickle-writer.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

type Format = 'safetensors-sharded' | 'bin' | 'bin-sharded' | 'pdparams';
const FORMATS: Format[] = ['safetensors-sharded', 'bin', 'bin-sharded', 'pdparams'];

/** The Paddle name of an alembic (Hugging Face) encoder name, and whether Paddle stores it [in, out]. */
function paddleName(name: string): { name: string; transpose: boolean } {
  const parts: Record<string, string> = {
    'attention.self.query': 'self_attn.q_proj',
    'attention.self.key': 'self_attn.k_proj',
    'attention.self.value': 'self_attn.v_proj',
    'attention.output.dense': 'self_attn.out_proj',
    'attention.output.LayerNorm': 'norm1',
    'output.LayerNorm': 'norm2',
    'intermediate.dense': 'linear1',
    'output.dense': 'linear2',
  };
  const m = /^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
  const transpose = /\.(?:query|key|value|dense)\.weight$/.test(name);
  if (m) return { name: `ernie.encoder.layers.${m[1]}.${parts[m[2]]}.${m[3]}`, transpose };
  return { name: `ernie.${name.replace('embeddings.LayerNorm', 'embeddings.layer_norm')}`, transpose };
}

function plain(t: Tensor, transpose = false): PlainTensor {
  const [rows, cols] = t.shape;
  const v = t.toArray();
  if (!transpose) return { shape: t.shape, values: v };
  const out: number[] = [];
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out.push(v[r * cols + c]);
  return { shape: [cols, rows], values: out };
}

/** Writes `source`'s weights as a checkpoint directory of `format`, with a vocabulary for `chars`. */
function writeCheckpoint(
  dir: string,
  format: Format,
  source: TransformerEncoder,
  options: TransformerOptions,
  vocab: string[],
): void {
  const ernie = format === 'pdparams';
  const config = {
    vocab_size: options.vocabSize,
    hidden_size: options.hiddenSize,
    num_hidden_layers: options.numLayers,
    num_attention_heads: options.numHeads,
    intermediate_size: options.ffnSize,
    max_position_embeddings: options.maxPositions,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    ...(ernie
      ? { model_type: 'ernie', use_task_id: true, task_type_vocab_size: 3, type_vocab_size: 4 }
      : { model_type: 'bert' }),
  };
  writeFileSync(path.join(dir, ernie ? 'model_config.json' : 'config.json'), JSON.stringify(config));
  writeFileSync(path.join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  const state = [...source.stateDict()];
  const half = Math.ceil(state.length / 2);
  const shards = [state.slice(0, half), state.slice(half)];
  const index = (file: string, names: string[][]) =>
    writeFileSync(
      path.join(dir, file),
      JSON.stringify({
        metadata: {},
        weight_map: Object.fromEntries(
          names.flatMap((ns, i) => ns.map((n) => [n, `part-${i + 1}-of-2.${file.split('.')[1]}`])),
        ),
      }),
    );
  switch (format) {
    case 'safetensors-sharded': {
      shards.forEach((s, i) =>
        saveTensors(
          path.join(dir, `part-${i + 1}-of-2.safetensors`),
          new Map(s.map(([n, t]) => [`bert.${n}`, t])),
        ),
      );
      index(
        'model.safetensors.index.json',
        shards.map((s) => s.map(([n]) => `bert.${n}`)),
      );
      break;
    }
    case 'bin': {
      // Linear weights stored as transposed views of [in, out] storages, as torch may save them.
      const views: Record<string, TorchView> = {};
      const storages: Record<string, { dtype: 'F32'; values: number[] }> = {};
      state.forEach(([n, t], i) => {
        const linear = t.shape.length === 2 && !n.startsWith('embeddings.');
        const p = plain(t, linear);
        storages[String(i)] = { dtype: 'F32', values: p.values };
        views[`bert.${n}`] = linear
          ? { storage: String(i), offset: 0, shape: t.shape, strides: [1, t.shape[0]] }
          : {
              storage: String(i),
              offset: 0,
              shape: t.shape,
              strides: t.shape.map((_, k) => t.shape.slice(k + 1).reduce((a, b) => a * b, 1)),
            };
      });
      views['cls.predictions.bias'] = {
        storage: 'head',
        offset: 0,
        shape: [options.vocabSize],
        strides: [1],
      };
      storages.head = { dtype: 'F32', values: new Array(options.vocabSize).fill(0.5) };
      writeTorchZip(path.join(dir, 'pytorch_model.bin'), views, storages, { prefix: 'pytorch_model' });
      break;
    }
    case 'bin-sharded': {
      shards.forEach((s, i) =>
        writeTorchTensors(
          path.join(dir, `part-${i + 1}-of-2.bin`),
          new Map(s.map(([n, t]) => [`bert.${n}`, plain(t)])),
        ),
      );
      index(
        'pytorch_model.bin.index.json',
        shards.map((s) => s.map(([n]) => `bert.${n}`)),
      );
      break;
    }
    case 'pdparams': {
      writePdparams(
        path.join(dir, 'model_state.pdparams'),
        new Map(
          state.map(([n, t]) => {
            const p = paddleName(n);
            return [p.name, plain(t, p.transpose)];
          }),
        ),
      );
      writeFileSync(
        path.join(dir, 'tokenizer_config.json'),
        JSON.stringify({ do_lower_case: true, tokenizer_class: 'ErnieTokenizer' }),
      );
      break;
    }
  }
}

function setup(format: Format) {
  const dir = tempDir();
  const files = writeSentimentSplits(dir, { train: 48, dev: 12, test: 12 }, 3);
  const chars = new Set<string>();
  for (const f of [files.train, files.dev, files.test])
    for (const line of readFileSync(f, 'utf8').split('\n'))
      for (const ch of line.split('\t')[0]) chars.add(ch);
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...[...chars].sort()];
  const options: TransformerOptions = {
    vocabSize: vocab.length + 3,
    hiddenSize: 8,
    numLayers: 2,
    numHeads: 2,
    ffnSize: 16,
    maxPositions: 32,
    dropout: 0,
    attentionDropout: 0,
    ...(format === 'pdparams' ? { typeVocabSize: 4, taskTypeVocabSize: 3 } : {}),
  };
  manualSeed(5);
  const source = new TransformerEncoder(options);
  const ckpt = path.join(dir, 'ckpt');
  mkdirSync(ckpt);
  writeCheckpoint(ckpt, format, source, options, vocab);
  return { dir, files, ckpt, source };
}

for (const format of FORMATS) {
  test(`${format}: every encoder weight loads exactly, and the load is reported`, () => {
    const { ckpt, source } = setup(format);
    const encoder = new TransformerEncoder(
      transformerOptions({ net: 'transformer', pretrained_dir: ckpt } as never, 0, 0),
    );
    const logs: string[] = [];
    const warnings: string[] = [];
    const r = loadPretrained(encoder, ckpt, {
      log: (m) => logs.push(m),
      warn: (m) => warnings.push(m),
      tokenizer: { type: 'wordpiece', lowercase: true },
    });
    assert.deepEqual(warnings, []);
    assert.equal(r.loaded, source.stateDict().size);
    for (const [name, t] of source.stateDict())
      assert.deepEqual(encoder.stateDict().get(name)!.toArray(), t.toArray(), name);
    assert.match(
      logs[0],
      new RegExp(`^pretrained: loaded ${r.loaded} tensors into the encoder from ${ckpt} \\(`),
    );
    if (format === 'bin')
      assert.ok(
        logs.some((l) => /ignored 1 pre-training\/task head tensor\(s\).*cls\.predictions\.bias/.test(l)),
        logs.join('\n'),
      );
    encoder.dispose();
  });

  test(`${format}: a checkpoint directory fine-tunes, saves its real shape and reloads with identical predictions`, async () => {
    const { dir, files, ckpt } = setup(format);
    const config = parseConfig(
      {
        task: 'text_classification',
        dataset: { train: files.train, dev: files.dev, max_len: 16, tokenizer: { type: 'wordpiece' } },
        model: { net: 'transformer', pretrained_dir: ckpt },
        trainer: { max_steps: 3, batch_size: 8, threads: 1, output_dir: 'run', eval_step: 3 },
      },
      path.join(dir, 'cls.json'),
    );
    await train(config, { quiet: true, log: () => {} });
    const best = path.join(dir, 'run', 'best');
    const manifest = JSON.parse(readFileSync(path.join(best, MODEL_FILE), 'utf8'));
    // The template's 128 × 1 is replaced by the checkpoint's 8 × 2 in the saved config.
    assert.deepEqual([manifest.config.model.hidden_size, manifest.config.model.num_layers], [8, 2]);
    assert.equal(manifest.config.dataset.tokenizer.lowercase, true);
    const before = loadModelDir(best);
    const texts = readFileSync(files.test, 'utf8')
      .trim()
      .split('\n')
      .map((l) => ({ text: l.split('\t')[0] }));
    const want = before.task.predict(
      before.model,
      texts.map((e) => before.task.encode(e)),
    );
    before.model.dispose();
    rmSync(ckpt, { recursive: true });
    assert.ok(!existsSync(ckpt));
    const after = loadModelDir(best);
    assert.deepEqual(
      after.task.predict(
        after.model,
        texts.map((e) => after.task.encode(e)),
      ),
      want,
    );
    after.model.dispose();
  });
}

test('CLI: a hostile pytorch_model.bin in pretrained_dir stops training with exit 2 and one line; nothing runs', () => {
  const { dir, files, ckpt } = setup('bin');
  const marker = path.join(dir, 'pwned');
  const evil = pickle({
    t: 'odict',
    entries: [['bert.x', reduce(global('posix', 'system'), tuple(`touch ${marker}`))]],
  });
  writeTorchTensors(
    path.join(ckpt, 'pytorch_model.bin'),
    new Map([['bert.x', { shape: [1], values: [0] }]]),
    { pickleBytes: evil },
  );
  const configFile = path.join(dir, 'cls.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      task: 'text_classification',
      dataset: { train: files.train, max_len: 16, tokenizer: { type: 'wordpiece' } },
      model: { net: 'transformer', pretrained_dir: ckpt },
      trainer: { max_steps: 1, threads: 1, output_dir: 'run' },
    }),
  );
  const r = spawnSync('node', [path.resolve('bin/alembic.js'), 'train', '-c', configFile, '--quiet'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`alembic: ${ckpt}/pytorch_model\\.bin: pickle: refused to load the global posix\\.system`),
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(existsSync(marker), false);
});
