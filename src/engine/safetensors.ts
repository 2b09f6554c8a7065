/**
 * safetensors reading and writing in plain TypeScript, independent of the training engine.
 *
 * Layout: an 8-byte little-endian u64 header length N, then N bytes of UTF-8 JSON
 * `{ "<name>": { "dtype", "shape", "data_offsets": [begin, end] }, "__metadata__": { string: string } }`
 * (offsets count from the first byte after the header), then the raw little-endian tensor data.
 * Reading is done with positioned reads so asking for a few tensors of a large checkpoint touches only
 * their bytes; writing streams tensor by tensor into a temporary file that is renamed into place.
 */
import * as fs from 'node:fs';
import { UserError } from '../util/errors.js';

export type SafeDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** One tensor as stored: raw little-endian bytes plus dtype and shape. */
export interface RawTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Uint8Array;
}

/** One header entry: where a tensor's bytes are, relative to `dataStart`. */
export interface SafetensorsEntry {
  dtype: SafeDtype;
  shape: number[];
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** Entries in file order (ascending data offset). */
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Absolute file position of the first data byte (8 + header length). */
  dataStart: number;
  /** Size of the whole file in bytes. */
  fileSize: number;
}

const DTYPE_BYTES: Record<SafeDtype, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers above 100 MB; so do we, rather than allocate blindly. */
const MAX_HEADER_BYTES = 100_000_000;
/** Node refuses single reads/writes of 2 GiB or more; big tensors go through in 1 GiB pieces. */
const IO_CHUNK = 1 << 30;

export function isSafeDtype(s: unknown): s is SafeDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** Number of elements of a shape; [] is a scalar with one element. */
export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Conversions between raw bytes and typed arrays.

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies `bytes` into a fresh ArrayBuffer and, on a big-endian host, swaps each `width`-byte word. */
function hostOrderCopy(bytes: Uint8Array, width: number): ArrayBuffer {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  if (!HOST_LITTLE_ENDIAN && width > 1) swapWords(out, width);
  return out.buffer;
}

function swapWords(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** Raw little-endian bytes from a typed array (always a fresh, exactly sized buffer). */
function littleEndianBytes(view: ArrayBufferView, width: number): Uint8Array {
  const bytes = new Uint8Array(view.byteLength);
  bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  if (!HOST_LITTLE_ENDIAN && width > 1) swapWords(bytes, width);
  return bytes;
}

function checkDataSize(t: RawTensor): number {
  const n = shapeNumel(t.shape);
  const expected = n * DTYPE_BYTES[t.dtype];
  if (t.data.byteLength !== expected) {
    throw new UserError(
      `safetensors: ${t.dtype} tensor of shape [${t.shape.join(', ')}] needs ${expected} bytes, has ${t.data.byteLength}`,
    );
  }
  return n;
}

/**
 * Float32 bit pattern of an IEEE half. Done on bits rather than through a JS number so NaN payloads and
 * signs survive exactly; half subnormals are renormalised because every one of them is a float32 normal.
 */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: value = mant * 2^-24. Shift the leading one up to bit 10 and lower the exponent to match.
  let e = 113; // biased float32 exponent of 2^-14, the exponent of the smallest half normal
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

let halfTable: Uint32Array | undefined;
/** All 65536 half → float32 bit patterns, built once on first use (256 KiB). */
function halfToFloatTable(): Uint32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloatBits(h);
  }
  return halfTable;
}

/** Decodes any supported dtype to float32 (a fresh array). F64 and 64-bit integers are rounded to nearest. */
export function toFloat32(t: RawTensor): Float32Array {
  const n = checkDataSize(t);
  const bytes = t.data;
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(hostOrderCopy(bytes, 4));
    case 'F16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      const table = halfToFloatTable();
      for (let i = 0; i < n; i++) bits[i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
      return out;
    }
    case 'BF16': {
      // bfloat16 is the upper half of a float32, so widening is a shift: exact, NaN payloads included.
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = ((bytes[2 * i] << 16) | (bytes[2 * i + 1] << 24)) >>> 0;
      return out;
    }
    case 'F64':
      return Float32Array.from(new Float64Array(hostOrderCopy(bytes, 8)));
    case 'I64': {
      const src = new BigInt64Array(hostOrderCopy(bytes, 8));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'I32':
      return Float32Array.from(new Int32Array(hostOrderCopy(bytes, 4)));
    case 'I16':
      return Float32Array.from(new Int16Array(hostOrderCopy(bytes, 2)));
    case 'I8':
      return Float32Array.from(new Int8Array(hostOrderCopy(bytes, 1)));
    case 'U8':
      return Float32Array.from(bytes);
    case 'BOOL':
      return Float32Array.from(bytes, (b) => (b !== 0 ? 1 : 0));
  }
}

function requireIntegerDtype(t: RawTensor, target: string): void {
  if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F64') {
    throw new UserError(
      `safetensors: cannot read a ${t.dtype} tensor as ${target}; an integer dtype is needed`,
    );
  }
}

/** Decodes an integer (or BOOL) tensor to int64 (a fresh array). Float dtypes are refused. */
export function toBigInt64(t: RawTensor): BigInt64Array {
  requireIntegerDtype(t, 'int64');
  const n = checkDataSize(t);
  if (t.dtype === 'I64') return new BigInt64Array(hostOrderCopy(t.data, 8));
  const small = smallIntegersToInt32(t);
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) out[i] = BigInt(small[i]);
  return out;
}

/** Decodes an integer (or BOOL) tensor to int32; I64 values outside the int32 range are refused. */
export function toInt32(t: RawTensor): Int32Array {
  requireIntegerDtype(t, 'int32');
  const n = checkDataSize(t);
  if (t.dtype !== 'I64') return smallIntegersToInt32(t);
  const src = new BigInt64Array(hostOrderCopy(t.data, 8));
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (v < -2147483648n || v > 2147483647n) {
      throw new UserError(`safetensors: I64 value ${v} at index ${i} does not fit in int32`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** I32 and narrower integer dtypes (all fit in int32 exactly). */
function smallIntegersToInt32(t: RawTensor): Int32Array {
  switch (t.dtype) {
    case 'I32':
      return new Int32Array(hostOrderCopy(t.data, 4));
    case 'I16':
      return Int32Array.from(new Int16Array(hostOrderCopy(t.data, 2)));
    case 'I8':
      return Int32Array.from(new Int8Array(hostOrderCopy(t.data, 1)));
    case 'U8':
      return Int32Array.from(t.data);
    case 'BOOL':
      return Int32Array.from(t.data, (b) => (b !== 0 ? 1 : 0));
    default:
      throw new Error(`smallIntegersToInt32: unexpected dtype ${t.dtype}`);
  }
}

function checkShapeFor(length: number, shape: number[]): number[] {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new UserError(
        `safetensors: invalid shape [${shape.join(', ')}]: dimensions must be integers >= 0`,
      );
    }
  }
  if (shapeNumel(shape) !== length) {
    throw new UserError(
      `safetensors: shape [${shape.join(', ')}] has ${shapeNumel(shape)} elements, data has ${length}`,
    );
  }
  return [...shape];
}

export function fromFloat32(data: Float32Array, shape: number[]): RawTensor {
  return { dtype: 'F32', shape: checkShapeFor(data.length, shape), data: littleEndianBytes(data, 4) };
}

export function fromBigInt64(data: BigInt64Array, shape: number[]): RawTensor {
  return { dtype: 'I64', shape: checkShapeFor(data.length, shape), data: littleEndianBytes(data, 8) };
}

export function fromInt32(data: Int32Array, shape: number[]): RawTensor {
  return { dtype: 'I32', shape: checkShapeFor(data.length, shape), data: littleEndianBytes(data, 4) };
}

// ---------------------------------------------------------------------------------------------
// Reading.

function fail(path: string, problem: string): never {
  throw new UserError(`${path}: safetensors: ${problem}`);
}

/** Reads exactly `buf.length` bytes at `position`, looping over short reads; a short file is an error. */
function readFully(fd: number, buf: Uint8Array, position: number, path: string, what: string): void {
  let done = 0;
  while (done < buf.length) {
    const got = fs.readSync(fd, buf, done, Math.min(buf.length - done, IO_CHUNK), position + done);
    if (got === 0) fail(path, `file is truncated: unexpected end of file while reading ${what}`);
    done += got;
  }
}

function openForReading(path: string): number {
  try {
    return fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: safetensors: file not found`);
    if (code === 'EISDIR') throw new UserError(`${path}: safetensors: is a directory, not a file`);
    throw new UserError(`${path}: safetensors: cannot open: ${(e as Error).message}`);
  }
}

function readHeaderFromFd(fd: number, path: string): SafetensorsHeader {
  const stat = fs.fstatSync(fd);
  if (stat.isDirectory()) fail(path, 'is a directory, not a file');
  const fileSize = stat.size;
  if (fileSize < 8) fail(path, `file is ${fileSize} bytes, shorter than the 8-byte header length prefix`);
  const prefix = new Uint8Array(8);
  readFully(fd, prefix, 0, path, 'the header length');
  const headerLen = new DataView(prefix.buffer).getBigUint64(0, true);
  if (headerLen > BigInt(fileSize - 8)) {
    fail(path, `header length ${headerLen} is larger than the ${fileSize - 8} bytes after the length prefix`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES))
    fail(path, `header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
  const headerBytes = new Uint8Array(Number(headerLen));
  readFully(fd, headerBytes, 8, path, 'the header');
  const dataStart = 8 + headerBytes.length;
  const json = parseHeaderJson(headerBytes, path);
  const { entries, metadata } = parseHeaderObject(json, path);
  checkCoverage(entries, fileSize - dataStart, path);
  return { entries, metadata, dataStart, fileSize };
}

function parseHeaderJson(bytes: Uint8Array, path: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail(path, 'header is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(path, `header is not JSON: ${(e as Error).message}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseHeaderObject(
  json: unknown,
  path: string,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  if (!isPlainObject(json)) fail(path, 'header is not a JSON object');
  const metadata = parseMetadata(json[METADATA_KEY], path);
  const list: [string, SafetensorsEntry][] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === METADATA_KEY) continue;
    list.push([name, parseEntry(name, raw, path)]);
  }
  // File order makes coverage checking a single pass and reads mostly sequential.
  list.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  return { entries: new Map(list), metadata };
}

function parseMetadata(raw: unknown, path: string): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isPlainObject(raw)) fail(path, `"${METADATA_KEY}" must be an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string')
      fail(path, `"${METADATA_KEY}"."${k}" must be a string, got ${JSON.stringify(v)}`);
    metadata[k] = v;
  }
  return metadata;
}

function parseEntry(name: string, raw: unknown, path: string): SafetensorsEntry {
  const where = `tensor "${name}"`;
  if (!isPlainObject(raw)) fail(path, `${where}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (!isSafeDtype(dtype)) {
    fail(
      path,
      `${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(path, `${where}: shape ${JSON.stringify(shape)} is not a list of integers >= 0`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    fail(
      path,
      `${where}: data_offsets ${JSON.stringify(offsets)} out of range: need [begin, end] with 0 <= begin <= end`,
    );
  }
  const numel = shapeNumel(shape);
  const nbytes = numel * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(nbytes) || nbytes !== offsets[1] - offsets[0]) {
    fail(
      path,
      `${where}: ${dtype} shape [${shape.join(', ')}] needs ${nbytes} bytes but data_offsets ` +
        `[${offsets[0]}, ${offsets[1]}] span ${offsets[1] - offsets[0]}`,
    );
  }
  return { dtype, shape: [...shape], dataOffsets: [offsets[0], offsets[1]] };
}

/** The tensors, in offset order, must tile the data region exactly: no gaps, overlaps or trailing bytes. */
function checkCoverage(entries: Map<string, SafetensorsEntry>, dataLength: number, path: string): void {
  let end = 0;
  let previous = '';
  for (const [name, { dataOffsets }] of entries) {
    const [b, e] = dataOffsets;
    if (b < end)
      fail(path, `tensor "${name}" data_offsets [${b}, ${e}] overlap tensor "${previous}" (ends at ${end})`);
    if (b > end) fail(path, `data_offsets leave a gap of bytes [${end}, ${b}) before tensor "${name}"`);
    if (e > dataLength) {
      fail(
        path,
        `file is truncated or data_offsets out of range: tensor "${name}" data_offsets [${b}, ${e}] ` +
          `run past the end of the data region (${dataLength} bytes)`,
      );
    }
    end = e;
    previous = name;
  }
  if (end !== dataLength) {
    fail(
      path,
      `data_offsets do not cover the data region: tensors end at ${end}, data region is ${dataLength} bytes`,
    );
  }
}

/** Reads and validates only the header; the tensor data is not touched. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openForReading(path);
  try {
    return readHeaderFromFd(fd, path);
  } finally {
    fs.closeSync(fd);
  }
}

export interface ReadSafetensorsOptions {
  /** Read only these tensors (each must exist); the map keeps this order. Default: all, in file order. */
  names?: string[];
}

/**
 * Reads tensors with one positioned read each. Every tensor gets its own exactly sized ArrayBuffer, so
 * `new Float32Array(t.data.buffer)` is always aligned and safe.
 */
export function readSafetensors(
  path: string,
  opts: ReadSafetensorsOptions = {},
): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const fd = openForReading(path);
  try {
    const header = readHeaderFromFd(fd, path);
    const names = opts.names ?? [...header.entries.keys()];
    const tensors = new Map<string, RawTensor>();
    for (const name of names) {
      const entry = header.entries.get(name);
      if (!entry) fail(path, `no tensor named "${name}" (the file has ${header.entries.size} tensors)`);
      const [b, e] = entry.dataOffsets;
      const data = new Uint8Array(e - b);
      readFully(fd, data, header.dataStart + b, path, `tensor "${name}"`);
      tensors.set(name, { dtype: entry.dtype, shape: [...entry.shape], data });
    }
    return { tensors, metadata: header.metadata };
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/** Code-unit order, independent of locale, so the same tensors always give the same bytes. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkTensorForWrite(path: string, name: string, t: RawTensor): void {
  if (name === METADATA_KEY) fail(path, `"${METADATA_KEY}" cannot be used as a tensor name`);
  if (name === '') fail(path, 'tensor name must not be empty');
  if (!isSafeDtype(t.dtype)) fail(path, `tensor "${name}": unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(path, `tensor "${name}": shape ${JSON.stringify(t.shape)} is not a list of integers >= 0`);
  }
  const expected = shapeNumel(t.shape) * DTYPE_BYTES[t.dtype];
  if (t.data.byteLength !== expected) {
    fail(
      path,
      `tensor "${name}": ${t.dtype} shape [${t.shape.join(', ')}] needs ${expected} bytes, data has ${t.data.byteLength}`,
    );
  }
}

/** Header bytes, padded with spaces so the data region starts at a multiple of 8 (as the reference does). */
function encodeHeader(
  names: string[],
  tensors: Map<string, RawTensor>,
  metadata: Record<string, string> | undefined,
): Uint8Array {
  // Members are joined by hand because JSON.stringify would hoist integer-like names ("0", "12") to the
  // front; this way the header lists tensors in exactly the sorted order their bytes follow.
  const members: string[] = [];
  const metaKeys = Object.keys(metadata ?? {}).sort(byCodeUnit);
  if (metaKeys.length > 0) {
    const fields = metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata![k])}`);
    members.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const end = offset + t.data.byteLength;
    const entry = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    members.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${members.join(',')}}`);
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  return padded;
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, IO_CHUNK));
}

/**
 * Writes a safetensors file atomically: tensors sorted by name, header padded to a multiple of 8, data
 * streamed tensor by tensor into `<path>.tmp-<pid>`, which is then renamed over `path`.
 */
export function writeSafetensors(
  path: string,
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): void {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort(byCodeUnit);
  for (const name of names) checkTensorForWrite(path, name, map.get(name)!);
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') fail(path, `metadata "${k}" must be a string, got ${JSON.stringify(v)}`);
  }
  const header = encodeHeader(names, map, metadata);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);

  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (e) {
    fail(path, `cannot create ${tmp}: ${(e as Error).message}`);
  }
  let open = true;
  try {
    writeFully(fd, prefix);
    writeFully(fd, header);
    for (const name of names) writeFully(fd, map.get(name)!.data);
    fs.fsyncSync(fd);
    open = false;
    fs.closeSync(fd);
    fs.renameSync(tmp, path);
  } catch (e) {
    // Never close twice: the descriptor number may already belong to another file.
    if (open) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (e instanceof UserError) throw e;
    fail(path, `write failed: ${(e as Error).message}`);
  }
}
