import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { toFloat32, toBigInt64 } from '../../src/engine/safetensors.js';
import { torchZipSource } from '../../src/engine/torch-zip.js';
import { UserError } from '../../src/util/errors.js';
import { writeTorchTensors, writeTorchZip } from '../helpers/checkpoint-writers.js';
import { global, pickle, reduce, tuple } from '../helpers/pickle-writer.js';
import { tempDir } from '../helpers/tiny-data.js';

const range = (n: number, scale = 1) => Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

test('contiguous tensors in every stored dtype read back exactly, only the names asked for', () => {
  const file = path.join(tempDir(), 'pytorch_model.bin');
  const eighths = range(12, 1 / 8); // exact in half and bfloat16
  writeTorchTensors(
    file,
    new Map([
      ['f32', { shape: [3, 4], values: range(12, 0.1) }],
      ['f16', { dtype: 'F16', shape: [12], values: eighths }],
      ['bf16', { dtype: 'BF16', shape: [2, 6], values: eighths }],
      ['f64', { dtype: 'F64', shape: [2, 2], values: [1e-300, 2, 3, 4] }],
      ['ids', { dtype: 'I64', shape: [1, 3], values: [0, 1, 2 ** 40] }],
    ]),
  );
  const src = torchZipSource(file);
  assert.equal(src.format, 'PyTorch zip');
  assert.deepEqual(src.names(), ['f32', 'f16', 'bf16', 'f64', 'ids']);
  const got = src.read(['f16', 'bf16', 'f32', 'f64', 'ids']);
  assert.deepEqual([...got.keys()], ['f16', 'bf16', 'f32', 'f64', 'ids']);
  assert.equal(got.get('f16')!.dtype, 'F16');
  assert.deepEqual([...toFloat32(got.get('f16')!)], eighths);
  assert.equal(got.get('bf16')!.dtype, 'BF16');
  assert.deepEqual(got.get('bf16')!.shape, [2, 6]);
  assert.deepEqual([...toFloat32(got.get('bf16')!)], eighths);
  assert.deepEqual([...toFloat32(got.get('f32')!)], [...Float32Array.from(range(12, 0.1))]);
  assert.deepEqual(new Float64Array(got.get('f64')!.data.slice().buffer)[0], 1e-300);
  assert.deepEqual([...toBigInt64(got.get('ids')!)], [0n, 1n, 2n ** 40n]);
});

test('views: a transpose, a slice with a storage offset and two tensors sharing one storage', () => {
  const file = path.join(tempDir(), 'pytorch_model.bin');
  // storage 0 holds a 2x3 matrix [[0,1,2],[3,4,5]]; storage 1 holds 0..9.
  writeTorchZip(
    file,
    {
      matrix: { storage: '0', offset: 0, shape: [2, 3], strides: [3, 1] },
      transposed: { storage: '0', offset: 0, shape: [3, 2], strides: [1, 3] },
      column: { storage: '0', offset: 1, shape: [2], strides: [3] },
      tail: { storage: '1', offset: 6, shape: [2, 2], strides: [2, 1] },
      everyOther: { storage: '1', offset: 1, shape: [4], strides: [2] },
    },
    { '0': { dtype: 'F32', values: [0, 1, 2, 3, 4, 5] }, '1': { dtype: 'F16', values: range(10) } },
    { prefix: 'pytorch_model', wrap: 'state_dict' },
  );
  const src = torchZipSource(file);
  const got = src.read(src.names());
  const values = (n: string) => [...toFloat32(got.get(n)!)];
  assert.deepEqual(values('matrix'), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(values('transposed'), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(got.get('transposed')!.shape, [3, 2]);
  assert.deepEqual(values('column'), [1, 4]);
  assert.deepEqual(values('tail'), [1, 2, 3, 4]);
  assert.deepEqual(values('everyOther'), [-4, -2, 0, 2]);
});

test('a view reaching outside its storage is refused with the file and tensor named', () => {
  const file = path.join(tempDir(), 'pytorch_model.bin');
  writeTorchZip(
    file,
    { w: { storage: '0', offset: 4, shape: [2, 2], strides: [2, 1] } },
    { '0': { dtype: 'F32', values: [0, 1, 2, 3, 4, 5] } },
  );
  assert.throws(
    () => torchZipSource(file).read(['w']),
    (e: Error) =>
      e instanceof UserError &&
      e.message.startsWith(`${file}: w: view`) &&
      /outside its storage/.test(e.message),
  );
});

test('a malicious data.pkl inside the zip is refused before anything runs', () => {
  const dir = tempDir();
  const file = path.join(dir, 'pytorch_model.bin');
  const marker = path.join(dir, 'pwned');
  const evil = pickle({
    t: 'odict',
    entries: [['w', reduce(global('os', 'system'), tuple(`touch ${marker}`))]],
  });
  writeTorchTensors(file, new Map([['w', { shape: [1], values: [1] }]]), { pickleBytes: evil });
  assert.throws(
    () => torchZipSource(file),
    new RegExp(`^UserError: ${file}: pickle: refused to load the global os\\.system`),
  );
  assert.equal(existsSync(marker), false);
});

test('legacy (pre-zip) checkpoints and non-checkpoints get a clear message', () => {
  const dir = tempDir();
  const legacy = path.join(dir, 'legacy.bin');
  writeFileSync(legacy, Uint8Array.from([0x80, 2, 0x8a, 0x0a]));
  assert.throws(() => torchZipSource(legacy), /legacy \(torch < 1\.6\) checkpoint/);
  const text = path.join(dir, 'text.bin');
  writeFileSync(text, 'hello');
  assert.throws(() => torchZipSource(text), /not a PyTorch zip checkpoint/);
  const noPickle = path.join(dir, 'nopkl.bin');
  writeFileSync(noPickle, zipSync({ 'a/version': new TextEncoder().encode('3') }));
  assert.throws(() => torchZipSource(noPickle), /no data\.pkl/);
});
