/**
 * Node attributes. ONNX attributes are typed (INT, FLOAT, INTS, ...) and onnxruntime rejects a model whose
 * attribute has the wrong type, e.g. `epsilon` written as INT. A JS number does not say which it is, so:
 * - untagged values are inferred: an integral number is INT, any other number FLOAT, a boolean INT 0/1,
 *   a number array INTS if every element is integral else FLOATS, a string STRING, a string array STRINGS;
 * - where inference would be wrong (a float attribute with an integral value, like `alpha: 1`) or the value
 *   is ambiguous (an empty list), the caller tags it: `{ alpha: float(1), axes: ints([]) }`.
 */
import { AttributeType } from './schema.js';
import { elemTypeOfArray, onnxDataType, rawBytes, shapeSize, type TensorData } from './tensor-types.js';

export type TaggedAttr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'tensor'; readonly value: { data: TensorData; dims: readonly number[]; bool: boolean } };

export type AttrValue = TaggedAttr | number | boolean | string | readonly number[] | readonly string[];

export type Attrs = Record<string, AttrValue>;

function requireInteger(v: number, what: string): number {
  if (!Number.isSafeInteger(v)) throw new Error(`${what}: ${v} is not an integer`);
  return v;
}

export const int = (value: number): TaggedAttr => ({ kind: 'int', value: requireInteger(value, 'int()') });
export const float = (value: number): TaggedAttr => ({ kind: 'float', value });
export const ints = (value: readonly number[]): TaggedAttr => ({
  kind: 'ints',
  value: value.map((v) => requireInteger(v, 'ints()')),
});
export const floats = (value: readonly number[]): TaggedAttr => ({ kind: 'floats', value: [...value] });
export const str = (value: string): TaggedAttr => ({ kind: 'string', value });
export const strs = (value: readonly string[]): TaggedAttr => ({ kind: 'strings', value: [...value] });
/** A tensor-valued attribute (e.g. Constant's `value`, ConstantOfShape's `value`). */
export const tensorAttr = (
  data: TensorData,
  dims: readonly number[],
  opts: { bool?: boolean } = {},
): TaggedAttr => ({
  kind: 'tensor',
  value: { data, dims: [...dims], bool: opts.bool ?? false },
});

function isTagged(v: AttrValue): v is TaggedAttr {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'kind' in v;
}

/** Resolves an untagged value to its ONNX type by the rules in this file's header. */
export function tagAttr(name: string, v: AttrValue): TaggedAttr {
  if (isTagged(v)) return v;
  if (typeof v === 'boolean') return int(v ? 1 : 0);
  if (typeof v === 'number') return Number.isInteger(v) ? int(v) : float(v);
  if (typeof v === 'string') return str(v);
  const list = v as readonly (number | string)[];
  if (list.length === 0)
    throw new Error(`attribute ${name}: an empty list is ambiguous; tag it with ints() or floats()`);
  if (list.every((x) => typeof x === 'string')) return strs(list as string[]);
  if (list.every((x) => typeof x === 'number')) {
    const nums = list as number[];
    return nums.every(Number.isInteger) ? ints(nums) : floats(nums);
  }
  throw new Error(`attribute ${name}: a list must hold only numbers or only strings`);
}

const utf8 = new TextEncoder();

/** A TensorProto plain object for the protobuf encoder; data goes in raw_data. */
export function tensorProto(name: string, data: TensorData, dims: readonly number[], bool = false): object {
  if (shapeSize(dims) !== data.length) {
    throw new Error(
      `tensor ${name || '(attribute)'}: dims [${dims.join(', ')}] hold ${shapeSize(dims)} elements, data has ${data.length}`,
    );
  }
  const type = bool ? 'bool' : elemTypeOfArray(data);
  return { name, dims: [...dims], dataType: onnxDataType(type), rawData: rawBytes(data) };
}

/** The AttributeProto plain object for one attribute. */
export function attributeProto(name: string, value: AttrValue): object {
  const a = tagAttr(name, value);
  switch (a.kind) {
    case 'int':
      return { name, type: AttributeType.INT, i: a.value };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...a.value] };
    case 'string':
      return { name, type: AttributeType.STRING, s: utf8.encode(a.value) };
    case 'strings':
      return { name, type: AttributeType.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
    case 'tensor':
      return {
        name,
        type: AttributeType.TENSOR,
        t: tensorProto('', a.value.data, a.value.dims, a.value.bool),
      };
  }
}
