import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fromTyped, full, int64, manualSeed } from '../../src/engine/create.js';
import * as F from '../../src/engine/functional.js';
import { noGrad, tidy } from '../../src/engine/scope.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { saveTensors } from '../../src/engine/state-io.js';
import { loadPretrained } from '../../src/nets/pretrained.js';
import { TransformerEncoder } from '../../src/nets/transformer.js';
import { gradcheck, randomValues } from '../helpers/gradcheck.js';
import { tempDir } from '../helpers/tiny-data.js';

const small = {
  vocabSize: 30,
  hiddenSize: 8,
  numLayers: 2,
  numHeads: 2,
  ffnSize: 16,
  maxPositions: 16,
  dropout: 0,
  attentionDropout: 0,
};

/** The checkpoint config.json of the `small` shape, as a `model_type` checkpoint would carry it. */
function writeSmallConfig(dir: string, modelType: 'bert' | 'ernie'): void {
  const config = {
    model_type: modelType,
    vocab_size: small.vocabSize,
    hidden_size: small.hiddenSize,
    num_hidden_layers: small.numLayers,
    num_attention_heads: small.numHeads,
    intermediate_size: small.ffnSize,
    max_position_embeddings: small.maxPositions,
  };
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
}

function input(ids: number[][]) {
  const time = Math.max(...ids.map((r) => r.length));
  const flat = ids.flatMap((r) => [...r, ...new Array(time - r.length).fill(0)]);
  const mask = ids.flatMap((r) => [...r.map(() => 1), ...new Array(time - r.length).fill(0)]);
  return {
    ids: int64(flat, [ids.length, time]),
    mask: fromTyped(Uint8Array.from(mask), [ids.length, time], 'bool'),
    lengths: int64(ids.map((r) => r.length)),
  };
}

test('Transformer forward equals a by-hand BERT computation from its own weights', () => {
  manualSeed(11);
  const enc = new TransformerEncoder(small).eval();
  const w = enc.stateDict();
  const p = (n: string) => w.get(n)!;
  tidy(() => {
    const batch = input([[2, 5, 7, 3]]);
    const got = noGrad(() => enc.encode(batch));
    const ln = (x: Tensor, pre: string) => F.layerNorm(x, [8], p(`${pre}.weight`), p(`${pre}.bias`), 1e-12);
    const lin = (x: Tensor, pre: string) => F.linear(x, p(`${pre}.weight`), p(`${pre}.bias`));
    let x = noGrad(() =>
      ln(
        F.embedding(p('embeddings.word_embeddings.weight'), batch.ids)
          .add(p('embeddings.position_embeddings.weight').slice(0, 0, 4).unsqueeze(0))
          .add(p('embeddings.token_type_embeddings.weight').select(0, 0)),
        'embeddings.LayerNorm',
      ),
    );
    for (let l = 0; l < 2; l++) {
      const pre = `encoder.layer.${l}`;
      x = noGrad(() => {
        const heads = (t: Tensor) => t.view(1, 4, 2, 4).transpose(1, 2);
        const q = heads(lin(x, `${pre}.attention.self.query`));
        const k = heads(lin(x, `${pre}.attention.self.key`));
        const v = heads(lin(x, `${pre}.attention.self.value`));
        const ctx = q.matmul(k.mT).div(2).softmax(-1).matmul(v).transpose(1, 2).reshape(1, 4, 8);
        const a = ln(lin(ctx, `${pre}.attention.output.dense`).add(x), `${pre}.attention.output.LayerNorm`);
        const f = lin(lin(a, `${pre}.intermediate.dense`).gelu(), `${pre}.output.dense`);
        return ln(f.add(a), `${pre}.output.LayerNorm`);
      });
    }
    const diff = got.sequence.sub(x).abs().max().item();
    assert.ok(diff < 1e-5, `max difference ${diff}`);
    const pooled = noGrad(() => lin(x.select(1, 0), 'pooler.dense').tanh());
    assert.ok(got.pooled.sub(pooled).abs().max().item() < 1e-5);
  });
});

test('Transformer output ignores padding (same pooled vector alone and in a padded batch)', () => {
  manualSeed(12);
  const enc = new TransformerEncoder(small).eval();
  tidy(() => {
    const alone = noGrad(() => enc.encode(input([[4, 9, 6]])).pooled.toArray());
    const batched = noGrad(() =>
      enc
        .encode(
          input([
            [4, 9, 6],
            [1, 2, 3, 4, 5, 6, 7, 8],
          ]),
        )
        .pooled.select(0, 0)
        .toArray(),
    );
    alone.forEach((v, i) => assert.ok(Math.abs(v - batched[i]) < 1e-5));
  });
});

test('mean pooling reads the mean of the real tokens, not [CLS] and not the padding', () => {
  manualSeed(13);
  const enc = new TransformerEncoder({ ...small, pooling: 'mean' }).eval();
  const w = enc.stateDict();
  tidy(() => {
    const batch = input([
      [4, 9, 6],
      [1, 2, 3, 4, 5, 6, 7, 8],
    ]);
    const got = noGrad(() => enc.encode(batch));
    // By hand: row 0's first three states averaged, then the pooler.
    const mean = got.sequence.select(0, 0).slice(0, 0, 3).mean([0]);
    const expected = noGrad(() =>
      F.linear(mean, w.get('pooler.dense.weight')!, w.get('pooler.dense.bias')).tanh(),
    );
    assert.ok(got.pooled.select(0, 0).sub(expected).abs().max().item() < 1e-5);
    const cls = noGrad(() => new TransformerEncoder({ ...small, pooling: 'cls' }).eval());
    cls.loadStateDict(w);
    const clsPooled = noGrad(() => cls.encode(batch).pooled);
    assert.ok(clsPooled.sub(got.pooled).abs().max().item() > 1e-3, 'the pooling option changes the vector');
    const alone = noGrad(() => enc.encode(input([[4, 9, 6]])).pooled.select(0, 0));
    assert.ok(alone.sub(got.pooled.select(0, 0)).abs().max().item() < 1e-5, 'padding does not count');
  });
});

test('scaled dot-product attention with a padding mask has correct gradients (float64 finite differences)', () => {
  const q = { values: randomValues(2 * 3 * 4, 1), shape: [2, 3, 4] };
  const k = { values: randomValues(2 * 3 * 4, 2), shape: [2, 3, 4] };
  const v = { values: randomValues(2 * 3 * 4, 3), shape: [2, 3, 4] };
  gradcheck(
    'attention',
    (qq, kk, vv) => {
      const bias = fromTyped(Float64Array.from([0, 0, -1e4, 0, 0, 0]), [2, 1, 3], 'float64');
      return qq.matmul(kk.mT).mul(0.5).add(bias).softmax(-1).matmul(vv);
    },
    [q, k, v],
  );
});

test('a Hugging Face BERT checkpoint directory loads by name (prefix, gamma/beta, heads ignored)', () => {
  manualSeed(13);
  const source = new TransformerEncoder(small);
  const dir = tempDir();
  const hfNames = new Map<string, Tensor>();
  for (const [name, t] of source.stateDict()) {
    const hf = ('bert.' + name)
      .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
      .replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    hfNames.set(hf, t);
  }
  hfNames.set('cls.predictions.bias', full([30], 0.5));
  mkdirSync(dir, { recursive: true });
  saveTensors(path.join(dir, 'model.safetensors'), hfNames);
  writeSmallConfig(dir, 'bert');
  const target = new TransformerEncoder(small);
  const { loaded, ignored } = loadPretrained(target, dir);
  assert.equal(loaded, source.stateDict().size);
  assert.deepEqual(ignored, ['cls.predictions.bias']);
  for (const [name, t] of source.stateDict()) {
    assert.deepEqual(target.stateDict().get(name)!.toArray(), t.toArray(), name);
  }
});

test('a PaddleNLP ERNIE checkpoint loads with Linear weights transposed', () => {
  manualSeed(14);
  const source = new TransformerEncoder(small);
  const dir = tempDir();
  const paddle = new Map<string, Tensor>();
  const sd = source.stateDict();
  const put = (name: string, from: string, transpose = false) =>
    paddle.set(name, transpose ? sd.get(from)!.transpose(0, 1).contiguous().keep() : sd.get(from)!);
  put('ernie.embeddings.word_embeddings.weight', 'embeddings.word_embeddings.weight');
  put('ernie.embeddings.position_embeddings.weight', 'embeddings.position_embeddings.weight');
  put('ernie.embeddings.token_type_embeddings.weight', 'embeddings.token_type_embeddings.weight');
  put('ernie.embeddings.layer_norm.weight', 'embeddings.LayerNorm.weight');
  put('ernie.embeddings.layer_norm.bias', 'embeddings.LayerNorm.bias');
  for (let l = 0; l < 2; l++) {
    const e = `ernie.encoder.layers.${l}`;
    const h = `encoder.layer.${l}`;
    for (const [pp, hh] of [
      ['self_attn.q_proj', 'attention.self.query'],
      ['self_attn.k_proj', 'attention.self.key'],
      ['self_attn.v_proj', 'attention.self.value'],
      ['self_attn.out_proj', 'attention.output.dense'],
      ['linear1', 'intermediate.dense'],
      ['linear2', 'output.dense'],
    ]) {
      put(`${e}.${pp}.weight`, `${h}.${hh}.weight`, true);
      put(`${e}.${pp}.bias`, `${h}.${hh}.bias`);
    }
    for (const [pp, hh] of [
      ['norm1', 'attention.output.LayerNorm'],
      ['norm2', 'output.LayerNorm'],
    ]) {
      put(`${e}.${pp}.weight`, `${h}.${hh}.weight`);
      put(`${e}.${pp}.bias`, `${h}.${hh}.bias`);
    }
  }
  put('ernie.pooler.dense.weight', 'pooler.dense.weight', true);
  put('ernie.pooler.dense.bias', 'pooler.dense.bias');
  saveTensors(path.join(dir, 'model_state.safetensors'), paddle);
  writeSmallConfig(dir, 'ernie');
  const target = new TransformerEncoder(small);
  loadPretrained(target, dir);
  for (const [name, t] of sd) assert.deepEqual(target.stateDict().get(name)!.toArray(), t.toArray(), name);
});

test('a checkpoint missing encoder weights is refused with a clear error', () => {
  const dir = tempDir();
  saveTensors(
    path.join(dir, 'model.safetensors'),
    new Map([['bert.embeddings.word_embeddings.weight', full([30, 8], 0)]]),
  );
  writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({ vocab_size: 30, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2 }),
  );
  assert.throws(() => loadPretrained(new TransformerEncoder(small), dir), /lacks \d+ encoder weights/);
});
