import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError, UserError } from '../../src/util/errors.js';
import {
  bertParameterShapes,
  detectCheckpointFormat,
  mapCheckpoint,
  mapCheckpointName,
  readBertConfig,
  type BertConfig,
} from '../../src/nets/checkpoint-names.js';
import { tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-ckpt-names-');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;

/** [checkpoint name, expected target or null, expected transpose] */
type Row = [string, string | null, boolean?];

const HF_BERT: Row[] = [
  ['bert.embeddings.word_embeddings.weight', 'embeddings.word_embeddings.weight'],
  ['bert.embeddings.position_embeddings.weight', 'embeddings.position_embeddings.weight'],
  ['bert.embeddings.token_type_embeddings.weight', 'embeddings.token_type_embeddings.weight'],
  ['bert.embeddings.LayerNorm.weight', 'embeddings.LayerNorm.weight'],
  ['bert.embeddings.LayerNorm.bias', 'embeddings.LayerNorm.bias'],
  ['bert.encoder.layer.0.attention.self.query.weight', 'encoder.layer.0.attention.self.query.weight'],
  ['bert.encoder.layer.11.attention.self.key.bias', 'encoder.layer.11.attention.self.key.bias'],
  ['bert.encoder.layer.3.attention.self.value.weight', 'encoder.layer.3.attention.self.value.weight'],
  ['bert.encoder.layer.3.attention.output.dense.weight', 'encoder.layer.3.attention.output.dense.weight'],
  ['bert.encoder.layer.3.attention.output.LayerNorm.bias', 'encoder.layer.3.attention.output.LayerNorm.bias'],
  ['bert.encoder.layer.3.intermediate.dense.weight', 'encoder.layer.3.intermediate.dense.weight'],
  ['bert.encoder.layer.3.output.dense.bias', 'encoder.layer.3.output.dense.bias'],
  ['bert.encoder.layer.3.output.LayerNorm.weight', 'encoder.layer.3.output.LayerNorm.weight'],
  ['bert.pooler.dense.weight', 'pooler.dense.weight', false],
  ['bert.pooler.dense.bias', 'pooler.dense.bias'],
  // No prefix (BertModel saved directly, sentence-transformers).
  ['encoder.layer.5.output.dense.weight', 'encoder.layer.5.output.dense.weight'],
  ['embeddings.word_embeddings.weight', 'embeddings.word_embeddings.weight'],
  // Old TF-port checkpoints (e.g. bert-base-chinese's pytorch_model.bin).
  ['bert.embeddings.LayerNorm.gamma', 'embeddings.LayerNorm.weight'],
  ['bert.embeddings.LayerNorm.beta', 'embeddings.LayerNorm.bias'],
  [
    'bert.encoder.layer.7.attention.output.LayerNorm.gamma',
    'encoder.layer.7.attention.output.LayerNorm.weight',
  ],
  ['bert.encoder.layer.7.output.LayerNorm.beta', 'encoder.layer.7.output.LayerNorm.bias'],
  // Heads and buffers: ignored.
  ['cls.predictions.bias', null],
  ['cls.predictions.transform.dense.weight', null],
  ['cls.predictions.transform.LayerNorm.gamma', null],
  ['cls.predictions.decoder.weight', null],
  ['cls.seq_relationship.weight', null],
  ['classifier.weight', null],
  ['qa_outputs.bias', null],
  ['bert.embeddings.position_ids', null],
];

const HF_ERNIE: Row[] = [
  ['ernie.embeddings.word_embeddings.weight', 'embeddings.word_embeddings.weight'],
  ['ernie.embeddings.task_type_embeddings.weight', 'embeddings.task_type_embeddings.weight'],
  ['ernie.embeddings.LayerNorm.weight', 'embeddings.LayerNorm.weight'],
  ['ernie.encoder.layer.2.attention.self.query.weight', 'encoder.layer.2.attention.self.query.weight', false],
  ['ernie.encoder.layer.2.intermediate.dense.weight', 'encoder.layer.2.intermediate.dense.weight', false],
  ['ernie.pooler.dense.weight', 'pooler.dense.weight', false],
  ['cls.predictions.decoder.bias', null],
];

const PADDLE_ERNIE: Row[] = [
  ['ernie.embeddings.word_embeddings.weight', 'embeddings.word_embeddings.weight', false],
  ['ernie.embeddings.position_embeddings.weight', 'embeddings.position_embeddings.weight', false],
  ['ernie.embeddings.token_type_embeddings.weight', 'embeddings.token_type_embeddings.weight', false],
  ['ernie.embeddings.task_type_embeddings.weight', 'embeddings.task_type_embeddings.weight', false],
  ['ernie.embeddings.layer_norm.weight', 'embeddings.LayerNorm.weight', false],
  ['ernie.embeddings.layer_norm.bias', 'embeddings.LayerNorm.bias', false],
  ['ernie.encoder.layers.0.self_attn.q_proj.weight', 'encoder.layer.0.attention.self.query.weight', true],
  ['ernie.encoder.layers.0.self_attn.q_proj.bias', 'encoder.layer.0.attention.self.query.bias', false],
  ['ernie.encoder.layers.0.self_attn.k_proj.weight', 'encoder.layer.0.attention.self.key.weight', true],
  ['ernie.encoder.layers.0.self_attn.v_proj.weight', 'encoder.layer.0.attention.self.value.weight', true],
  ['ernie.encoder.layers.0.self_attn.out_proj.weight', 'encoder.layer.0.attention.output.dense.weight', true],
  ['ernie.encoder.layers.0.self_attn.out_proj.bias', 'encoder.layer.0.attention.output.dense.bias', false],
  ['ernie.encoder.layers.10.norm1.weight', 'encoder.layer.10.attention.output.LayerNorm.weight', false],
  ['ernie.encoder.layers.10.norm2.bias', 'encoder.layer.10.output.LayerNorm.bias', false],
  ['ernie.encoder.layers.10.linear1.weight', 'encoder.layer.10.intermediate.dense.weight', true],
  ['ernie.encoder.layers.10.linear1.bias', 'encoder.layer.10.intermediate.dense.bias', false],
  ['ernie.encoder.layers.10.linear2.weight', 'encoder.layer.10.output.dense.weight', true],
  ['ernie.pooler.dense.weight', 'pooler.dense.weight', true],
  ['ernie.pooler.dense.bias', 'pooler.dense.bias', false],
  // Bare ErnieModel state dict: no prefix.
  ['encoder.layers.1.self_attn.v_proj.weight', 'encoder.layer.1.attention.self.value.weight', true],
  ['classifier.weight', null],
  ['cls.predictions.layer_norm.weight', null],
  ['linear_start.weight', null], // UIE head
];

/** Checks each row, mapping names one by one in the format detected from the whole table. */
function checkTable(rows: Row[], label: string): void {
  const format = detectCheckpointFormat(rows.map((r) => r[0]));
  for (const [name, target, transpose] of rows) {
    const m = mapCheckpointName(name, format);
    if (target === null) {
      assert.equal(m, null, `${label}: ${name} should be ignored`);
      continue;
    }
    assert.ok(m, `${label}: ${name} should map`);
    assert.equal(m.target, target, `${label}: ${name}`);
    if (transpose !== undefined) assert.equal(m.transpose, transpose, `${label}: ${name} transpose`);
  }
}

test('Hugging Face BERT names (prefixed, bare, TF-port) map onto alembic names', () => {
  checkTable(HF_BERT, 'hf bert');
  for (const [name, target] of HF_BERT) {
    const m = mapCheckpointName(name);
    assert.equal(m?.target ?? null, target, name);
    assert.equal(m?.transpose ?? false, false, name);
  }
});

test('Hugging Face ERNIE names map, keeping the task-type embedding', () => {
  checkTable(HF_ERNIE, 'hf ernie');
  const r = mapCheckpoint(HF_ERNIE.map((row) => row[0]));
  assert.equal(r.format, 'hf');
  assert.deepEqual(r.ignored, ['cls.predictions.decoder.bias']);
  assert.deepEqual(r.unrecognized, []);
  assert.equal(r.mapping.get('ernie.pooler.dense.weight')?.transpose, false);
});

test('PaddleNLP ERNIE names map, transposing Linear weights only', () => {
  checkTable(PADDLE_ERNIE, 'paddle');
  const r = mapCheckpoint(PADDLE_ERNIE.map((row) => row[0]));
  assert.equal(r.format, 'paddle');
  assert.equal(r.mapping.get('ernie.pooler.dense.weight')?.transpose, true);
  assert.deepEqual(r.ignored, [
    'classifier.weight',
    'cls.predictions.layer_norm.weight',
    'linear_start.weight',
  ]);
  assert.deepEqual(r.unrecognized, ['linear_start.weight']);
  // A Paddle-style name shows its format on its own...
  assert.deepEqual(mapCheckpointName('ernie.encoder.layers.4.linear2.weight'), {
    target: 'encoder.layer.4.output.dense.weight',
    transpose: true,
  });
  // ...but the pooler name is shared, so alone it defaults to Hugging Face layout.
  assert.deepEqual(mapCheckpointName('ernie.pooler.dense.weight'), {
    target: 'pooler.dense.weight',
    transpose: false,
  });
  assert.deepEqual(mapCheckpointName('ernie.pooler.dense.weight', 'paddle'), {
    target: 'pooler.dense.weight',
    transpose: true,
  });
});

test('mapCheckpoint separates known heads from unrecognized names', () => {
  const names = [
    'bert.embeddings.word_embeddings.weight',
    'cls.predictions.bias',
    'bert.encoder.layer.0.foo.weight',
  ];
  const r = mapCheckpoint(names);
  assert.deepEqual([...r.mapping.keys()], ['bert.embeddings.word_embeddings.weight']);
  assert.deepEqual(r.ignored, ['cls.predictions.bias', 'bert.encoder.layer.0.foo.weight']);
  assert.deepEqual(r.unrecognized, ['bert.encoder.layer.0.foo.weight']);
});

test('mapCheckpoint refuses mixed formats and two names for one parameter', () => {
  assert.throws(
    () =>
      mapCheckpoint(['encoder.layer.0.output.dense.weight', 'encoder.layers.0.linear2.weight'], 'model.bin'),
    (e: unknown) =>
      e instanceof UserError &&
      /^model\.bin: mixes Hugging Face .* and PaddleNLP .* parameter names/.test(e.message),
  );
  assert.throws(
    () => mapCheckpoint(['bert.pooler.dense.bias', 'pooler.dense.bias'], 'x.safetensors'),
    /x\.safetensors: parameters "bert\.pooler\.dense\.bias" and "pooler\.dense\.bias" both map to "pooler\.dense\.bias"/,
  );
  assert.throws(
    () => mapCheckpoint(['bert.embeddings.LayerNorm.gamma', 'bert.embeddings.LayerNorm.weight']),
    /both map to "embeddings\.LayerNorm\.weight"/,
  );
});

function writeJson(obj: unknown, name = 'config.json'): string {
  const d = path.join(dir, `model-${counter++}`);
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, name), typeof obj === 'string' ? obj : JSON.stringify(obj));
  return d;
}

const BERT_BASE_CHINESE = {
  architectures: ['BertForMaskedLM'],
  attention_probs_dropout_prob: 0.1,
  directionality: 'bidi',
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  type_vocab_size: 2,
  vocab_size: 21128,
};

test('readBertConfig reads a Hugging Face config.json', () => {
  const d = writeJson(BERT_BASE_CHINESE);
  const c = readBertConfig(d);
  assert.deepEqual(c, {
    vocabSize: 21128,
    hiddenSize: 768,
    numHiddenLayers: 12,
    numAttentionHeads: 12,
    intermediateSize: 3072,
    maxPositionEmbeddings: 512,
    typeVocabSize: 2,
    hiddenAct: 'gelu',
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
    layerNormEps: 1e-12,
    padTokenId: 0,
    useTaskId: false,
    taskTypeVocabSize: 3,
    source: path.join(d, 'config.json'),
  });
  // The JSON file itself may be given instead of its directory.
  assert.equal(readBertConfig(path.join(d, 'config.json')).vocabSize, 21128);
});

test('readBertConfig reads ERNIE configs: HF port and nested PaddleNLP model_config.json', () => {
  const hf = readBertConfig(
    writeJson({
      model_type: 'ernie',
      hidden_size: 312,
      intermediate_size: 1248,
      num_hidden_layers: 4,
      num_attention_heads: 12,
      vocab_size: 40000,
      max_position_embeddings: 2048,
      type_vocab_size: 4,
      use_task_id: true,
      task_type_vocab_size: 16,
      hidden_act: 'gelu',
      layer_norm_eps: 1e-5,
    }),
  );
  assert.deepEqual(
    [hf.hiddenSize, hf.intermediateSize, hf.useTaskId, hf.taskTypeVocabSize, hf.layerNormEps],
    [312, 1248, true, 16, 1e-5],
  );
  const paddle = readBertConfig(
    writeJson(
      {
        init_class: 'ErnieForSequenceClassification',
        init_args: [
          {
            init_class: 'ErnieModel',
            init_args: [
              {
                attention_probs_dropout_prob: 0.1,
                hidden_act: 'relu',
                hidden_dropout_prob: 0.1,
                hidden_size: 768,
                max_position_embeddings: 513,
                num_attention_heads: 12,
                num_hidden_layers: 12,
                type_vocab_size: 2,
                vocab_size: 18000,
                pad_token_id: 0,
              },
            ],
          },
        ],
      },
      'model_config.json',
    ),
  );
  assert.deepEqual(
    [
      paddle.vocabSize,
      paddle.maxPositionEmbeddings,
      paddle.hiddenAct,
      paddle.intermediateSize,
      paddle.useTaskId,
      // Paddle's LayerNorm epsilon, which PaddleNLP configs never write.
      paddle.layerNormEps,
    ],
    [18000, 513, 'relu', 3072, false, 1e-5],
  );
});

test('readBertConfig normalises activation names', () => {
  const act = (hidden_act: string) =>
    readBertConfig(writeJson({ ...BERT_BASE_CHINESE, hidden_act })).hiddenAct;
  assert.equal(act('gelu_new'), 'gelu_tanh');
  assert.equal(act('gelu_pytorch_tanh'), 'gelu_tanh');
  assert.equal(act('swish'), 'silu');
  assert.equal(act('relu'), 'relu');
});

function assertConfigError(d: string, file: string, message: RegExp): void {
  assert.throws(
    () => readBertConfig(d),
    (e: unknown) => e instanceof UserError && e.message.startsWith(file) && message.test(e.message),
  );
}

test('readBertConfig errors name the file and the key', () => {
  const { hidden_size: _drop, ...noHidden } = BERT_BASE_CHINESE;
  let d = writeJson(noHidden);
  let file = path.join(d, 'config.json');
  assert.throws(
    () => readBertConfig(d),
    (e: unknown) => e instanceof InputError && e.message === `${file}: hidden_size: required key is missing`,
  );

  d = writeJson({ ...BERT_BASE_CHINESE, num_hidden_layers: 2.5 });
  file = path.join(d, 'config.json');
  assertConfigError(d, file, /: num_hidden_layers: must be an integer >= 1, got 2\.5$/);

  d = writeJson({ ...BERT_BASE_CHINESE, num_attention_heads: 5 });
  assertConfigError(d, d, /num_attention_heads: hidden_size 768 is not divisible by num_attention_heads 5/);

  d = writeJson({ ...BERT_BASE_CHINESE, hidden_act: 'mish' });
  assertConfigError(d, d, /hidden_act: unsupported activation "mish"/);

  d = writeJson({ ...BERT_BASE_CHINESE, hidden_dropout_prob: 1.5 });
  assertConfigError(d, d, /hidden_dropout_prob: must be a number in \[0, 1\), got 1\.5/);

  d = writeJson({ ...BERT_BASE_CHINESE, model_type: 'roberta' });
  assertConfigError(d, d, /model_type: "roberta" is not supported/);

  d = writeJson({ ...BERT_BASE_CHINESE, position_embedding_type: 'relative_key' });
  assertConfigError(d, d, /position_embedding_type: "relative_key" is not supported/);

  d = writeJson('{"vocab_size": 3,');
  assertConfigError(d, path.join(d, 'config.json'), /config\.json: not valid JSON/);

  d = writeJson('[1]');
  assertConfigError(d, d, /config\.json: must contain a JSON object/);

  d = path.join(dir, `empty-${counter++}`);
  fs.mkdirSync(d);
  assertConfigError(d, d, /: no config\.json or model_config\.json found/);

  const missing = path.join(dir, 'no-such-dir');
  assertConfigError(missing, missing, /: checkpoint directory not found/);
});

test('bertParameterShapes lists every parameter with [out, in] Linear shapes', () => {
  const config: BertConfig = {
    ...readBertConfig(writeJson(BERT_BASE_CHINESE)),
    vocabSize: 10,
    hiddenSize: 4,
    numHiddenLayers: 2,
    numAttentionHeads: 2,
    intermediateSize: 6,
    maxPositionEmbeddings: 8,
    typeVocabSize: 2,
  };
  const shapes = bertParameterShapes(config);
  // 5 embedding tensors + 16 per layer + 2 pooler.
  assert.equal(shapes.size, 5 + 16 * 2 + 2);
  assert.deepEqual(shapes.get('embeddings.word_embeddings.weight'), [10, 4]);
  assert.deepEqual(shapes.get('encoder.layer.1.intermediate.dense.weight'), [6, 4]);
  assert.deepEqual(shapes.get('encoder.layer.1.output.dense.weight'), [4, 6]);
  assert.deepEqual(shapes.get('encoder.layer.0.output.LayerNorm.bias'), [4]);
  assert.equal(shapes.has('embeddings.task_type_embeddings.weight'), false);
  assert.equal(bertParameterShapes(config, { pooler: false }).has('pooler.dense.weight'), false);
  const ernie = bertParameterShapes({ ...config, useTaskId: true, taskTypeVocabSize: 3, typeVocabSize: 0 });
  assert.deepEqual(ernie.get('embeddings.task_type_embeddings.weight'), [3, 4]);
  assert.equal(ernie.has('embeddings.token_type_embeddings.weight'), false);

  // A complete Paddle checkpoint for this config maps onto exactly these names.
  const paddleNames = [
    'ernie.embeddings.word_embeddings.weight',
    'ernie.embeddings.position_embeddings.weight',
    'ernie.embeddings.token_type_embeddings.weight',
    'ernie.embeddings.layer_norm.weight',
    'ernie.embeddings.layer_norm.bias',
    ...[0, 1].flatMap((i) =>
      [
        'self_attn.q_proj',
        'self_attn.k_proj',
        'self_attn.v_proj',
        'self_attn.out_proj',
        'norm1',
        'linear1',
        'linear2',
        'norm2',
      ].flatMap((p) => [`ernie.encoder.layers.${i}.${p}.weight`, `ernie.encoder.layers.${i}.${p}.bias`]),
    ),
    'ernie.pooler.dense.weight',
    'ernie.pooler.dense.bias',
  ];
  const targets = [...mapCheckpoint(paddleNames).mapping.values()].map((m) => m.target).sort();
  assert.deepEqual(targets, [...shapes.keys()].sort());
});
