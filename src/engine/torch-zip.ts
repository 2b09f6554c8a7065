/**
 * PyTorch checkpoints (`pytorch_model.bin`, any `torch.save` of a state dict since torch 1.6): a zip holding
 * `<name>/data.pkl`, a pickle whose tensors are `torch._utils._rebuild_tensor_v2(storage, offset, sizes,
 * strides, …)` calls over persistent-id storages, and `<name>/data/<key>`, each storage's raw little-endian
 * bytes. The pickle runs in the restricted unpickler (pickle.ts) with only the globals listed here; the zip
 * is read with fflate, whose synchronous reader needs the whole file in memory (as torch.load without mmap);
 * sharded checkpoints keep that to one shard at a time (the storages are read in a second pass). Views (transposed, sliced, sharing a storage) are copied out contiguous; every
 * dtype a BERT checkpoint uses (F32/F16/BF16/F64, integers, bool) is kept as stored for the caller to cast.
 */
import { unzipSync } from 'fflate';
import { UserError } from '../util/errors.js';
import { CODECS_ENCODE, isTuple, ORDERED_DICT, unpickle, type PickleGlobal, type PyDict } from './pickle.js';
import { readWholeFile } from './read-whole-file.js';
import { dtypeByteSize, type RawTensor, type SafeDtype } from './safetensors.js';
import { gatherStrided } from './strided.js';
import type { TensorSource } from './tensor-source.js';

const STORAGE_DTYPES: Record<string, SafeDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

interface StorageRef {
  key: string;
  dtype: SafeDtype;
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly strides: number[],
  ) {}
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => Number.isSafeInteger(d)))
    throw new Error(`${what} is not a tuple of integers`);
  return [...(v as number[])];
}

const REBUILD_TENSOR: PickleGlobal = {
  module: 'torch._utils',
  name: '_rebuild_tensor_v2',
  call([storage, offset, size, stride]) {
    if (!(typeof storage === 'object' && storage !== null && 'key' in storage)) throw new Error('no storage');
    if (!Number.isSafeInteger(offset)) throw new Error('storage offset is not an integer');
    return new TensorRef(
      storage as StorageRef,
      offset as number,
      intList(size, 'size'),
      intList(stride, 'stride'),
    );
  },
};

/** nn.Parameter around a tensor: the tensor is what matters. */
function parameterRebuilder(name: string): PickleGlobal {
  return {
    module: 'torch._utils',
    name,
    call([data]) {
      if (!(data instanceof TensorRef)) throw new Error('the parameter holds no tensor');
      return data;
    },
  };
}

/** The globals a state-dict pickle may name. Storage classes are only ever tags in persistent ids. */
function torchGlobals(): Map<string, PickleGlobal> {
  const globals = new Map<string, PickleGlobal>();
  const add = (g: PickleGlobal) => globals.set(`${g.module}.${g.name}`, g);
  add(REBUILD_TENSOR);
  add(parameterRebuilder('_rebuild_parameter'));
  add(parameterRebuilder('_rebuild_parameter_with_state'));
  add(ORDERED_DICT);
  add(CODECS_ENCODE);
  for (const name of Object.keys(STORAGE_DTYPES)) add({ module: 'torch', name });
  return globals;
}

/** ('storage', torch.FloatStorage, key, location, numel) → which storage, in which dtype. */
function persistentLoad(pid: unknown): StorageRef {
  if (!isTuple(pid) || pid[0] !== 'storage' || pid.length < 3)
    throw new Error(`unknown persistent id ${JSON.stringify(pid)}`);
  const type = pid[1] as PickleGlobal;
  const dtype = STORAGE_DTYPES[type.name];
  if (type.module !== 'torch' || !dtype) throw new Error(`unknown storage type ${type.module}.${type.name}`);
  return { key: String(pid[2]), dtype };
}

/** The name → tensor dict of a checkpoint, looking inside `{"state_dict": …}` / `{"model": …}` wrappers. */
function findStateDict(root: unknown, file: string): Map<string, TensorRef> {
  let dict = root;
  for (let depth = 0; depth < 3 && dict instanceof Map; depth++) {
    const values = [...(dict as PyDict).values()];
    if (values.some((v) => v instanceof TensorRef)) break;
    dict =
      (dict as PyDict).get('state_dict') ?? (dict as PyDict).get('model') ?? (dict as PyDict).get('module');
  }
  if (!(dict instanceof Map)) throw new UserError(`${file}: holds no state dict of tensors`);
  const out = new Map<string, TensorRef>();
  for (const [k, v] of dict as PyDict) if (typeof k === 'string' && v instanceof TensorRef) out.set(k, v);
  if (out.size === 0) throw new UserError(`${file}: holds no tensors`);
  return out;
}

function unzip(file: string, bytes: Uint8Array, keep: (name: string) => boolean): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter: (f) => keep(f.name) });
  } catch (e) {
    throw new UserError(`${file}: not a readable zip archive: ${(e as Error).message}`);
  }
}

/**
 * Opens a PyTorch zip checkpoint: the pickle is read and checked now, the storages on `read`. The file's
 * bytes are not kept in between (read again then), so the shards of a large checkpoint are never all in
 * memory at once.
 */
export function torchZipSource(file: string): TensorSource {
  const bytes = readWholeFile(file, 'PyTorch checkpoint');
  if (bytes[0] === 0x80 && bytes[1] <= 5)
    throw new UserError(
      `${file}: a legacy (torch < 1.6) checkpoint; load and re-save it with a recent torch.save`,
    );
  if (!(bytes[0] === 0x50 && bytes[1] === 0x4b))
    throw new UserError(`${file}: not a PyTorch zip checkpoint (no zip signature)`);
  const meta = unzip(file, bytes, (n) => /^[^/]+\/(?:data\.pkl|byteorder)$/.test(n) || n === 'data.pkl');
  const pklName = Object.keys(meta).find((n) => n.endsWith('data.pkl'));
  if (!pklName) throw new UserError(`${file}: the zip has no data.pkl; not a torch.save checkpoint`);
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const order = meta[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== 'little')
    throw new UserError(`${file}: big-endian storages are not supported`);
  const root = unpickle(meta[pklName], { source: file, globals: torchGlobals(), persistentLoad });
  const refs = findStateDict(root, file);
  return {
    file,
    format: 'PyTorch zip',
    names: () => [...refs.keys()],
    read(names) {
      const wanted = new Set(
        names.map((n) => {
          const ref = refs.get(n);
          if (!ref) throw new UserError(`${file}: no tensor named "${n}"`);
          return `${prefix}data/${ref.storage.key}`;
        }),
      );
      const storages = unzip(file, readWholeFile(file, 'PyTorch checkpoint'), (n) => wanted.has(n));
      const out = new Map<string, RawTensor>();
      for (const name of names) {
        const ref = refs.get(name)!;
        const storage = storages[`${prefix}data/${ref.storage.key}`];
        if (!storage)
          throw new UserError(`${file}: ${name}: storage data/${ref.storage.key} is missing from the zip`);
        const size = dtypeByteSize(ref.storage.dtype);
        if (storage.length % size !== 0)
          throw new UserError(
            `${file}: ${name}: storage of ${storage.length} bytes is not a whole number of ${ref.storage.dtype} elements`,
          );
        let data: Uint8Array;
        try {
          data = gatherStrided(storage, size, ref.offset, ref.shape, ref.strides);
        } catch (e) {
          throw new UserError(`${file}: ${name}: ${(e as Error).message}`);
        }
        out.set(name, { dtype: ref.storage.dtype, shape: ref.shape, data });
      }
      return out;
    },
  };
}
