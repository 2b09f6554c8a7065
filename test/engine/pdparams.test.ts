import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pdparamsSource } from '../../src/engine/pdparams.js';
import { toFloat32 } from '../../src/engine/safetensors.js';
import { numpyArray, writePdparams } from '../helpers/checkpoint-writers.js';
import { global, pickle, reduce, tuple } from '../helpers/pickle-writer.js';
import { tempDir } from '../helpers/tiny-data.js';

for (const protocol of [2, 4] as const) {
  test(`protocol ${protocol}: numpy arrays by name, Paddle's bookkeeping entry left out`, () => {
    const file = path.join(tempDir(), 'model_state.pdparams');
    writePdparams(
      file,
      new Map([
        ['ernie.embeddings.word_embeddings.weight', { shape: [3, 2], values: [0.5, 1, 1.5, 2, 2.5, 3] }],
        ['ernie.encoder.layers.0.linear1.bias', { dtype: 'F16', shape: [4], values: [0.25, -1, 2, 8] }],
        ['ernie.pooler.dense.weight', { dtype: 'BF16', shape: [2, 2], values: [1, 2, 3, -0.5] }],
      ]),
      protocol,
    );
    const src = pdparamsSource(file);
    assert.equal(src.format, 'Paddle pdparams');
    assert.deepEqual(src.names(), [
      'ernie.embeddings.word_embeddings.weight',
      'ernie.encoder.layers.0.linear1.bias',
      'ernie.pooler.dense.weight',
    ]);
    const got = src.read(src.names());
    assert.deepEqual(got.get('ernie.embeddings.word_embeddings.weight')!.shape, [3, 2]);
    assert.deepEqual(
      [...toFloat32(got.get('ernie.embeddings.word_embeddings.weight')!)],
      [0.5, 1, 1.5, 2, 2.5, 3],
    );
    assert.equal(got.get('ernie.encoder.layers.0.linear1.bias')!.dtype, 'F16');
    assert.deepEqual([...toFloat32(got.get('ernie.encoder.layers.0.linear1.bias')!)], [0.25, -1, 2, 8]);
    // numpy has no bfloat16: Paddle's uint16 arrays are bfloat16 bits.
    assert.equal(got.get('ernie.pooler.dense.weight')!.dtype, 'BF16');
    assert.deepEqual([...toFloat32(got.get('ernie.pooler.dense.weight')!)], [1, 2, 3, -0.5]);
  });
}

test('a Fortran-ordered array comes out row-major', () => {
  const file = path.join(tempDir(), 'model_state.pdparams');
  // The 2x3 matrix [[1,2,3],[4,5,6]] stored column by column.
  writeFileSync(
    file,
    pickle({ t: 'dict', entries: [['m', numpyArray('F32', [2, 3], [1, 4, 2, 5, 3, 6], true)]] }, 4),
  );
  const got = pdparamsSource(file).read(['m']).get('m')!;
  assert.deepEqual(got.shape, [2, 3]);
  assert.deepEqual([...toFloat32(got)], [1, 2, 3, 4, 5, 6]);
});

test('a malicious .pdparams is refused with the file and global named, and nothing runs', () => {
  const dir = tempDir();
  const file = path.join(dir, 'model_state.pdparams');
  const marker = path.join(dir, 'pwned');
  for (const [module, name] of [
    ['os', 'system'],
    ['subprocess', 'Popen'],
    ['builtins', 'exec'],
    ['numpy', 'load'],
  ]) {
    writeFileSync(
      file,
      pickle(
        {
          t: 'dict',
          entries: [
            ['w', numpyArray('F32', [1], [1])],
            ['x', reduce(global(module, name), tuple(`touch ${marker}`))],
          ],
        },
        4,
      ),
    );
    assert.throws(
      () => pdparamsSource(file),
      (e: Error) =>
        e.message ===
        `${file}: pickle: refused to load the global ${module}.${name} (not a tensor or container type)`,
    );
  }
  assert.equal(existsSync(marker), false);
});

test('an entry that is not an array, or an object array, is an error naming it', () => {
  const file = path.join(tempDir(), 'model_state.pdparams');
  writeFileSync(file, pickle({ t: 'dict', entries: [['lr', 0.1]] }, 4));
  assert.throws(() => pdparamsSource(file), /entry "lr" is not a numpy array/);
});
