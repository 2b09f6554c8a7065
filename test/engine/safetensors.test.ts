import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../src/util/rng.js';
import { UserError } from '../../src/util/errors.js';
import {
  fromBigInt64,
  fromFloat32,
  fromInt32,
  readSafetensors,
  readSafetensorsHeader,
  toBigInt64,
  toFloat32,
  toInt32,
  writeSafetensors,
  type RawTensor,
  type SafeDtype,
} from '../../src/engine/safetensors.js';
import { tempDir } from '../helpers/tiny-data.js';

const dir = tempDir('alembic-safetensors-');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tmpFile = (label: string) => path.join(dir, `${label}-${counter++}.safetensors`);

function raw(dtype: SafeDtype, shape: number[], bytes: number[] | Uint8Array): RawTensor {
  return { dtype, shape, data: Uint8Array.from(bytes) };
}

/** A 16-bit-word tensor from hex words, written little-endian. */
function words16(dtype: 'F16' | 'BF16', words: number[]): RawTensor {
  const bytes = words.flatMap((w) => [w & 0xff, w >> 8]);
  return raw(dtype, [words.length], bytes);
}

function f32Bits(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

/** Builds a file from a header (object or exact text), data bytes and optionally a lying length prefix. */
function craft(header: object | string, data: number[] = [], lengthPrefix?: bigint): string {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = Buffer.from(text, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthPrefix ?? BigInt(json.length));
  const file = tmpFile('crafted');
  fs.writeFileSync(file, Buffer.concat([prefix, json, Buffer.from(data)]));
  return file;
}

function assertSafetensorsError(fn: () => unknown, file: string, problem: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${file}: safetensors: `), e.message);
    if (typeof problem === 'string') assert.ok(e.message.includes(problem), e.message);
    else assert.match(e.message, problem);
    return true;
  });
}

test('every dtype round-trips bit-exactly, including NaN payloads, -0 and empty/scalar tensors', () => {
  const rng = new Rng(11);
  const bytes = (n: number) => Array.from({ length: n }, () => rng.int(256));
  const specialF32 = new Uint32Array([
    0x7fc00001, 0xffa00000, 0x80000000, 0x7f800000, 0x00000001, 0x3f800000,
  ]);
  const tensors: Record<string, RawTensor> = {
    f32: raw('F32', [2, 3], new Uint8Array(specialF32.buffer)),
    f16: raw('F16', [3, 2], bytes(12)),
    bf16: raw('BF16', [5], bytes(10)),
    f64: raw('F64', [2], bytes(16)),
    i64: raw('I64', [1, 2], bytes(16)),
    i32: raw('I32', [3], bytes(12)),
    i16: raw('I16', [4], bytes(8)),
    i8: raw('I8', [7], bytes(7)),
    u8: raw('U8', [2, 2, 2], bytes(8)),
    bool: raw('BOOL', [3], [1, 0, 1]),
    empty: raw('F32', [0, 4], []),
    scalar: raw('I64', [], bytes(8)),
  };
  const file = tmpFile('all-dtypes');
  writeSafetensors(file, tensors);
  const { tensors: back, metadata } = readSafetensors(file);
  assert.deepEqual(metadata, {});
  assert.deepEqual([...back.keys()].sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    const r = back.get(name)!;
    assert.equal(r.dtype, t.dtype, name);
    assert.deepEqual(r.shape, t.shape, name);
    assert.deepEqual(Array.from(r.data), Array.from(t.data), name);
    // Each tensor owns an exactly sized buffer, so typed views are aligned.
    assert.equal(r.data.byteOffset, 0, name);
    assert.equal(r.data.buffer.byteLength, r.data.byteLength, name);
  }
  assert.deepEqual(f32Bits(toFloat32(back.get('f32')!)), Array.from(specialF32));
});

test('F16 decodes to hand-computed values, including subnormals, infinities and NaN payloads', () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 5.960464477539063e-8], // 2^-24, smallest subnormal
    [0x03ff, 6.097555160522461e-5], // 1023 * 2^-24, largest subnormal
    [0x0400, 6.103515625e-5], // 2^-14, smallest normal
    [0x3555, 0.333251953125],
    [0x0000, 0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  const out = toFloat32(
    words16(
      'F16',
      cases.map((c) => c[0]),
    ),
  );
  assert.deepEqual(
    Array.from(out),
    cases.map((c) => c[1]),
  );
  const signed = toFloat32(words16('F16', [0x8000, 0x8001, 0x7e00, 0x7c01, 0xfe01]));
  // -0, -2^-24, quiet NaN, signalling NaN with payload 1, negative NaN: payload bits move up by 13.
  assert.deepEqual(f32Bits(signed), [0x80000000, 0xb3800000, 0x7fc00000, 0x7f802000, 0xffc02000]);
});

test('BF16 decodes by widening to the upper half of a float32', () => {
  const out = toFloat32(words16('BF16', [0x3f80, 0xc049, 0x7f80, 0x0001, 0x8000, 0xff81]));
  assert.equal(out[0], 1);
  assert.equal(out[1], -3.140625);
  assert.equal(out[2], Infinity);
  assert.equal(out[3], 2 ** -133); // float32 subnormal 0x00010000
  assert.deepEqual(f32Bits(out.subarray(4)), [0x80000000, 0xff810000]);
});

test('toFloat32 converts F64 and integer dtypes', () => {
  assert.deepEqual(Array.from(toFloat32(raw('F64', [1], new Uint8Array(new Float64Array([0.1]).buffer)))), [
    Math.fround(0.1),
  ]);
  const i64 = fromBigInt64(new BigInt64Array([-3n, 2n ** 40n]), [2]);
  assert.deepEqual(Array.from(toFloat32(i64)), [-3, 1099511627776]);
  assert.deepEqual(Array.from(toFloat32(raw('I8', [2], [0x80, 0x7f]))), [-128, 127]);
  assert.deepEqual(Array.from(toFloat32(raw('I16', [1], [0x00, 0x80]))), [-32768]);
  assert.deepEqual(Array.from(toFloat32(raw('U8', [2], [255, 3]))), [255, 3]);
  assert.deepEqual(Array.from(toFloat32(raw('BOOL', [2], [0, 1]))), [0, 1]);
  assert.throws(() => toFloat32(raw('F32', [2], [0, 0, 0])), /needs 8 bytes, has 3/);
});

test('integer decoders: toBigInt64 and toInt32, refusing floats and out-of-range values', () => {
  assert.deepEqual(Array.from(toBigInt64(raw('I32', [2], [0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0]))), [-1n, 5n]);
  assert.deepEqual(Array.from(toBigInt64(raw('U8', [1], [200]))), [200n]);
  assert.deepEqual(Array.from(toBigInt64(fromBigInt64(new BigInt64Array([-(2n ** 62n)]), [1]))), [
    -(2n ** 62n),
  ]);
  assert.deepEqual(Array.from(toInt32(fromBigInt64(new BigInt64Array([7n, -8n]), [2]))), [7, -8]);
  assert.deepEqual(Array.from(toInt32(raw('I16', [1], [0xfe, 0xff]))), [-2]);
  assert.throws(() => toBigInt64(fromFloat32(new Float32Array([1]), [1])), /F32 tensor as int64/);
  assert.throws(() => toInt32(fromBigInt64(new BigInt64Array([2n ** 31n]), [1])), /2147483648 at index 0/);
});

test('fromFloat32/fromBigInt64/fromInt32 give little-endian bytes and check the shape', () => {
  assert.deepEqual(
    Array.from(fromFloat32(new Float32Array([1, -2]), [2]).data),
    [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0],
  );
  assert.deepEqual(Array.from(fromInt32(new Int32Array([258]), [1, 1]).data), [2, 1, 0, 0]);
  assert.deepEqual(
    Array.from(fromBigInt64(new BigInt64Array([-1n]), []).data),
    [255, 255, 255, 255, 255, 255, 255, 255],
  );
  const t = fromInt32(new Int32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  assert.deepEqual([t.dtype, t.shape], ['I32', [2, 3]]);
  assert.throws(() => fromFloat32(new Float32Array(5), [2, 3]), /has 6 elements, data has 5/);
  assert.throws(() => fromInt32(new Int32Array(2), [-1, -2]), /dimensions must be integers >= 0/);
  // A view into a larger buffer contributes only its own elements.
  const big = new Float32Array([9, 1, 2, 9]);
  assert.deepEqual(Array.from(toFloat32(fromFloat32(big.subarray(1, 3), [2]))), [1, 2]);
});

test('metadata round-trips and the header can be read alone', () => {
  const file = tmpFile('meta');
  const metadata = { format: 'pt', note: '中文 ✓', empty: '' };
  writeSafetensors(file, { w: fromFloat32(new Float32Array([1, 2, 3, 4]), [2, 2]) }, metadata);
  assert.deepEqual(readSafetensors(file).metadata, metadata);
  const header = readSafetensorsHeader(file);
  assert.deepEqual(header.metadata, metadata);
  assert.deepEqual([...header.entries], [['w', { dtype: 'F32', shape: [2, 2], dataOffsets: [0, 16] }]]);
  assert.equal(header.fileSize, header.dataStart + 16);
  assert.equal(header.dataStart % 8, 0);
});

test('reading a subset returns only the asked tensors, in the asked order', () => {
  const file = tmpFile('subset');
  writeSafetensors(
    file,
    new Map([
      ['a', fromFloat32(new Float32Array([1, 2]), [2])],
      ['b', fromInt32(new Int32Array([7, 8, 9]), [3])],
      ['c', fromFloat32(new Float32Array([5]), [1])],
    ]),
  );
  const { tensors } = readSafetensors(file, { names: ['c', 'a'] });
  assert.deepEqual([...tensors.keys()], ['c', 'a']);
  assert.deepEqual(Array.from(toFloat32(tensors.get('c')!)), [5]);
  assert.deepEqual(Array.from(new Float32Array(tensors.get('a')!.data.buffer)), [1, 2]);
  assertSafetensorsError(() => readSafetensors(file, { names: ['a', 'zzz'] }), file, 'no tensor named "zzz"');
});

test('a written file matches the layout byte by byte', () => {
  const file = tmpFile('layout');
  writeSafetensors(
    file,
    { b: fromFloat32(new Float32Array([1, 2]), [2]), a: raw('U8', [3], [1, 2, 3]) },
    { k: 'v' },
  );
  const bytes = fs.readFileSync(file);
  const json =
    '{"__metadata__":{"k":"v"},' +
    '"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},' +
    '"b":{"dtype":"F32","shape":[2],"data_offsets":[3,11]}}';
  assert.equal(json.length, 132);
  const headerLen = 136; // padded with 4 spaces to a multiple of 8
  assert.equal(bytes.readBigUInt64LE(0), BigInt(headerLen));
  assert.equal(bytes.subarray(8, 8 + headerLen).toString('utf8'), json + '    ');
  assert.deepEqual(Array.from(bytes.subarray(8 + headerLen)), [1, 2, 3, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  assert.equal(bytes.length, 8 + headerLen + 11);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary file left behind',
  );
});

test('writing is deterministic: names sorted by code unit whatever the insertion order', () => {
  const t = (v: number) => fromFloat32(new Float32Array([v]), [1]);
  const f1 = tmpFile('det');
  const f2 = tmpFile('det');
  writeSafetensors(
    f1,
    new Map([
      ['a', t(1)],
      ['9', t(2)],
      ['10', t(3)],
    ]),
    { y: '1', x: '2' },
  );
  writeSafetensors(
    f2,
    new Map([
      ['10', t(3)],
      ['a', t(1)],
      ['9', t(2)],
    ]),
    { x: '2', y: '1' },
  );
  const b1 = fs.readFileSync(f1);
  assert.deepEqual(b1, fs.readFileSync(f2));
  const header = b1.subarray(8, 8 + Number(b1.readBigUInt64LE(0))).toString('utf8');
  // Integer-like names stay in sorted position (JSON.stringify would have hoisted them).
  assert.ok(header.indexOf('"10"') < header.indexOf('"9"') && header.indexOf('"9"') < header.indexOf('"a"'));
  assert.ok(header.indexOf('"x"') < header.indexOf('"y"'));
  assert.deepEqual(Array.from(toFloat32(readSafetensors(f1).tensors.get('9')!)), [2]);
});

test('writing replaces an existing file and validates tensors first', () => {
  const file = tmpFile('replace');
  writeSafetensors(file, { x: fromFloat32(new Float32Array([1]), [1]) });
  writeSafetensors(file, { y: fromFloat32(new Float32Array([2, 3]), [2]) });
  assert.deepEqual([...readSafetensors(file).tensors.keys()], ['y']);
  assertSafetensorsError(
    () => writeSafetensors(file, { bad: raw('F32', [2], [0, 0, 0]) }),
    file,
    'needs 8 bytes',
  );
  assertSafetensorsError(
    () => writeSafetensors(file, { __metadata__: raw('U8', [1], [0]) }),
    file,
    'cannot be used as a tensor name',
  );
  assertSafetensorsError(
    () => writeSafetensors(file, { q: raw('F8' as SafeDtype, [1], [0]) }),
    file,
    'unknown dtype "F8"',
  );
  assert.deepEqual([...readSafetensors(file).tensors.keys()], ['y'], 'failed writes leave the old file');
});

test('an empty tensor set round-trips', () => {
  const file = tmpFile('empty');
  writeSafetensors(file, {});
  assert.equal(readSafetensors(file).tensors.size, 0);
});

test('corrupt files give errors naming the file and the problem', () => {
  const u8 = (b: number, e: number) => ({ dtype: 'U8', shape: [e - b], data_offsets: [b, e] });

  const short = tmpFile('short');
  fs.writeFileSync(short, Buffer.from([1, 2, 3, 4, 5]));
  assertSafetensorsError(() => readSafetensors(short), short, 'shorter than the 8-byte header length prefix');

  const hugeLen = craft({}, [], 1000n);
  assertSafetensorsError(
    () => readSafetensorsHeader(hugeLen),
    hugeLen,
    'header length 1000 is larger than the 2 bytes',
  );

  const notJson = craft('{"a": nope}');
  assertSafetensorsError(() => readSafetensors(notJson), notJson, 'header is not JSON');

  const notObject = craft('[1,2]');
  assertSafetensorsError(() => readSafetensors(notObject), notObject, 'header is not a JSON object');

  const badDtype = craft({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, [0, 0]);
  assertSafetensorsError(() => readSafetensors(badDtype), badDtype, 'tensor "w": unknown dtype "F8_E4M3"');

  const sizeMismatch = craft({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0));
  assertSafetensorsError(
    () => readSafetensors(sizeMismatch),
    sizeMismatch,
    'tensor "w": F32 shape [3] needs 12 bytes but data_offsets [0, 8] span 8',
  );

  const badShape = craft({ w: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } });
  assertSafetensorsError(() => readSafetensors(badShape), badShape, 'shape [-1] is not a list of integers');

  const negative = craft({ w: { dtype: 'U8', shape: [0], data_offsets: [4, 2] } }, [0, 0, 0, 0]);
  assertSafetensorsError(() => readSafetensors(negative), negative, 'data_offsets [4,2] out of range');

  const pastEnd = craft({ w: u8(0, 8) }, [1, 2, 3, 4]);
  assertSafetensorsError(
    () => readSafetensors(pastEnd),
    pastEnd,
    /out of range: tensor "w" data_offsets \[0, 8\]/,
  );

  const overlap = craft({ a: u8(0, 4), b: u8(2, 6) }, new Array(6).fill(0));
  assertSafetensorsError(
    () => readSafetensors(overlap),
    overlap,
    'tensor "b" data_offsets [2, 6] overlap tensor "a"',
  );

  const gap = craft({ a: u8(0, 4), b: u8(6, 10) }, new Array(10).fill(0));
  assertSafetensorsError(() => readSafetensors(gap), gap, 'gap of bytes [4, 6) before tensor "b"');

  const trailing = craft({ a: u8(0, 4) }, new Array(7).fill(0));
  assertSafetensorsError(
    () => readSafetensors(trailing),
    trailing,
    'do not cover the data region: tensors end at 4, data region is 7 bytes',
  );

  const badMeta = craft({ __metadata__: { n: 3 } });
  assertSafetensorsError(() => readSafetensors(badMeta), badMeta, '"__metadata__"."n" must be a string');

  const badUtf8 = tmpFile('utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(2n);
  fs.writeFileSync(badUtf8, Buffer.concat([prefix, Buffer.from([0xff, 0xfe])]));
  assertSafetensorsError(() => readSafetensors(badUtf8), badUtf8, 'header is not valid UTF-8');

  const missing = path.join(dir, 'does-not-exist.safetensors');
  assertSafetensorsError(() => readSafetensors(missing), missing, 'file not found');
});

test('a truncated file is reported as truncated', () => {
  const file = tmpFile('truncated');
  writeSafetensors(file, { w: fromFloat32(new Float32Array(16), [4, 4]) });
  fs.truncateSync(file, fs.statSync(file).size - 5);
  assertSafetensorsError(() => readSafetensors(file), file, 'file is truncated');
  fs.truncateSync(file, 12);
  assertSafetensorsError(
    () => readSafetensorsHeader(file),
    file,
    'is larger than the 4 bytes after the length prefix',
  );
});

test('a header padded with spaces is accepted', () => {
  const file = craft('{"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}      ', [7, 9]);
  assert.deepEqual(Array.from(readSafetensors(file).tensors.get('w')!.data), [7, 9]);
});
