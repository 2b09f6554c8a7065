/**
 * A restricted unpickler for checkpoint files (PyTorch's data.pkl, PaddlePaddle's .pdparams) that never runs
 * code. A pickle is a program for a small stack machine whose GLOBAL + REDUCE opcodes import and call any
 * Python callable, so a malicious checkpoint can run `os.system` on load — a known attack on model hubs.
 * Written by hand because no npm package unpickles safely: the existing ones either evaluate REDUCE with
 * arbitrary constructors or do not model protocols 2–4 at all. This one implements the opcodes protocols 2–4
 * need for plain data (containers, numbers, strings, bytes, memo, persistent ids, REDUCE/BUILD/NEWOBJ) and
 * resolves a GLOBAL only through the caller's allowlist, whose entries are TypeScript rebuilders. Any other
 * global or any other opcode stops loading with a one-line UserError naming the file and the offender.
 */
import { UserError } from '../util/errors.js';

/** A Python global the allowlist resolved: `call` builds a value from REDUCE/NEWOBJ arguments. */
export interface PickleGlobal {
  readonly module: string;
  readonly name: string;
  call?(args: unknown[]): unknown;
}

/** An object that accepts BUILD's state (numpy arrays and dtypes, OrderedDict attributes). */
export interface Buildable {
  setState(state: unknown): void;
}

export interface UnpickleOptions {
  /** The file, for error messages. */
  source: string;
  /** `module.name` → the global it stands for. Anything not here is refused. */
  globals: ReadonlyMap<string, PickleGlobal>;
  /** Resolves BINPERSID's id (PyTorch's storages); refused when absent. */
  persistentLoad?(pid: unknown): unknown;
}

/** A Python dict with string or number keys, kept as a Map so key order and non-string keys survive. */
export type PyDict = Map<unknown, unknown>;

/** A Python tuple: a frozen array, so it can be told apart from a list when it matters. */
export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The allowlisted `_codecs.encode`, which protocol 2 uses for bytes: latin-1 only, as pickle emits. */
export const CODECS_ENCODE: PickleGlobal = {
  module: '_codecs',
  name: 'encode',
  call([text, encoding]) {
    if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1'))
      throw new Error(`_codecs.encode with ${JSON.stringify(encoding)}`);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  },
};

/** `collections.OrderedDict()`: a Map; BUILD attributes such as torch's `_metadata` are dropped. */
export const ORDERED_DICT: PickleGlobal = {
  module: 'collections',
  name: 'OrderedDict',
  call(args) {
    const out: PyDict = new Map();
    const items = args[0];
    if (Array.isArray(items)) for (const pair of items) if (Array.isArray(pair)) out.set(pair[0], pair[1]);
    return out;
  },
};

/** Runs a pickle with the given allowlist and returns the value STOP leaves on the stack. */
export function unpickle(data: Uint8Array, opts: UnpickleOptions): unknown {
  return new Machine(data, opts).run();
}

class Machine {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    private readonly opts: UnpickleOptions,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private fail(problem: string): never {
    throw new UserError(`${this.opts.source}: pickle: ${problem}`);
  }

  private take(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.data.length)
      this.fail(`truncated at byte ${this.pos} (wanted ${n} more bytes)`);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    return this.take(1)[0];
  }
  private u16(): number {
    const v = this.view.getUint16(this.pos, true);
    this.take(2);
    return v;
  }
  private u32(): number {
    if (this.pos + 4 > this.data.length) this.take(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private i32(): number {
    if (this.pos + 4 > this.data.length) this.take(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    if (this.pos + 8 > this.data.length) this.take(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} is too large`);
    return Number(v);
  }
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated text argument');
    const s = latin1.decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
  private text(n: number): string {
    const bytes = this.take(n);
    try {
      return utf8.decode(bytes);
    } catch {
      this.fail(`invalid UTF-8 string at byte ${this.pos - n}`);
    }
  }
  private bytes(n: number): Uint8Array {
    return this.take(n).slice();
  }

  private pop(): unknown {
    if (this.stack.length === 0) this.fail(`stack underflow at byte ${this.pos - 1}`);
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length === 0) this.fail(`stack underflow at byte ${this.pos - 1}`);
    return this.stack[this.stack.length - 1];
  }
  /** The items pushed since the last MARK, restoring the stack under it. */
  private push(v: unknown): void {
    this.stack.push(v);
  }

  /** The items pushed since the last MARK, restoring the stack under it. Push results with push(), which
   *  reads this.stack after the call (`this.stack.push(this.popMark())` would push onto the popped level). */
  private popMark(): unknown[] {
    const items = this.stack;
    const below = this.marks.pop();
    if (below === undefined) this.fail(`no MARK before byte ${this.pos - 1}`);
    this.stack = below;
    return items;
  }

  private memoGet(i: number): unknown {
    if (!this.memo.has(i)) this.fail(`memo entry ${i} was never stored`);
    return this.memo.get(i);
  }

  private global(module: string, name: string): PickleGlobal {
    const g = this.opts.globals.get(`${module}.${name}`);
    if (!g) this.fail(`refused to load the global ${module}.${name} (not a tensor or container type)`);
    return g;
  }

  private call(callable: unknown, args: unknown): unknown {
    if (!isGlobal(callable) || !callable.call)
      this.fail(`REDUCE on something that is not an allowed callable`);
    if (!Array.isArray(args)) this.fail(`${callable.module}.${callable.name}: arguments are not a tuple`);
    try {
      return callable.call([...args]);
    } catch (e) {
      if (e instanceof UserError) throw e;
      this.fail(`${callable.module}.${callable.name}: ${(e as Error).message}`);
    }
  }

  private dictOf(target: unknown): PyDict {
    if (!(target instanceof Map))
      this.fail(`SETITEM on something that is not a dict at byte ${this.pos - 1}`);
    return target as PyDict;
  }

  private listOf(target: unknown): unknown[] {
    if (!Array.isArray(target) || isTuple(target))
      this.fail(`APPEND on something that is not a list at byte ${this.pos - 1}`);
    return target;
  }

  run(): unknown {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) this.fail('pickle protocol above 5');
          break;
        case 0x95: // FRAME: a length hint only
          this.u64();
          break;
        case 0x2e: // STOP
          return this.pop();
        case 0x28: // MARK
          this.marks.push(this.stack);
          this.stack = [];
          break;
        case 0x7d: // EMPTY_DICT
          this.stack.push(new Map());
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push(tuple([]));
          break;
        case 0x8f: // EMPTY_SET
          this.stack.push(new Set());
          break;
        case 0x74: // TUPLE
          this.push(tuple(this.popMark()));
          break;
        case 0x85: // TUPLE1
          this.stack.push(tuple([this.pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = this.pop();
          this.stack.push(tuple([this.pop(), b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.pop();
          const b = this.pop();
          this.stack.push(tuple([this.pop(), b, c]));
          break;
        }
        case 0x6c: // LIST
          this.push(this.popMark());
          break;
        case 0x64: {
          // DICT
          const items = this.popMark();
          const d: PyDict = new Map();
          for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
          this.push(d);
          break;
        }
        case 0x91: // FROZENSET
          this.push(new Set(this.popMark()));
          break;
        case 0x61: {
          // APPEND
          const v = this.pop();
          this.listOf(this.top()).push(v);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          this.listOf(this.top()).push(...items);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = this.pop();
          const k = this.pop();
          this.dictOf(this.top()).set(k, v);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          const d = this.dictOf(this.top());
          for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
          break;
        }
        case 0x90: {
          // ADDITEMS
          const items = this.popMark();
          const s = this.top();
          if (!(s instanceof Set)) this.fail(`ADDITEMS on something that is not a set`);
          for (const v of items) s.add(v);
          break;
        }
        case 0x4a: // BININT
          this.stack.push(this.i32());
          break;
        case 0x4b: // BININT1
          this.stack.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.stack.push(this.u16());
          break;
        case 0x8a: // LONG1
          this.stack.push(this.long(this.u8()));
          break;
        case 0x8b: // LONG4
          this.stack.push(this.long(this.i32()));
          break;
        case 0x49: {
          // INT (protocol 0), also True/False as "01"/"00"
          const s = this.line();
          this.stack.push(s === '01' ? true : s === '00' ? false : this.parseInt(s));
          break;
        }
        case 0x4c: // LONG (protocol 0)
          this.stack.push(this.parseInt(this.line().replace(/L$/, '')));
          break;
        case 0x47: // BINFLOAT (big-endian double)
          if (this.pos + 8 > this.data.length) this.take(8);
          this.stack.push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x58: // BINUNICODE
          this.stack.push(this.text(this.u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(this.text(this.u8()));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(this.text(this.u64()));
          break;
        case 0x54: // BINSTRING (Python 2 str, read as latin-1)
          this.stack.push(latin1.decode(this.take(this.i32())));
          break;
        case 0x55: // SHORT_BINSTRING
          this.stack.push(latin1.decode(this.take(this.u8())));
          break;
        case 0x42: // BINBYTES
          this.stack.push(this.bytes(this.u32()));
          break;
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.bytes(this.u8()));
          break;
        case 0x8e: // BINBYTES8
          this.stack.push(this.bytes(this.u64()));
          break;
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x70: // PUT (protocol 0)
          this.memo.set(this.parseInt(this.line()), this.top());
          break;
        case 0x68: // BINGET
          this.stack.push(this.memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.memoGet(this.u32()));
          break;
        case 0x67: // GET (protocol 0)
          this.stack.push(this.memoGet(this.parseInt(this.line())));
          break;
        case 0x30: // POP
          if (this.stack.length) this.pop();
          else this.popMark();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        case 0x63: {
          // GLOBAL "module\nname\n"
          const module = this.line();
          this.stack.push(this.global(module, this.line()));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string')
            this.fail('STACK_GLOBAL without strings');
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.pop();
          this.stack.push(this.call(this.pop(), args));
          break;
        }
        case 0x81: {
          // NEWOBJ: cls.__new__(cls, *args) — the same rebuilders serve
          const args = this.pop();
          this.stack.push(this.call(this.pop(), args));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          const target = this.top();
          if (target instanceof Map) break; // OrderedDict attributes (torch's _metadata): not needed
          if (!isBuildable(target)) this.fail(`BUILD on an object that takes no state at byte ${at}`);
          try {
            target.setState(state);
          } catch (e) {
            if (e instanceof UserError) throw e;
            this.fail(`BUILD: ${(e as Error).message}`);
          }
          break;
        }
        case 0x51: {
          // BINPERSID
          const pid = this.pop();
          if (!this.opts.persistentLoad) this.fail('persistent ids are not allowed in this file');
          this.stack.push(this.opts.persistentLoad(pid));
          break;
        }
        default:
          this.fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
      }
    }
  }

  /** A little-endian two's-complement integer of n bytes, as a number when it is safe, else a bigint. */
  private long(n: number): number | bigint {
    if (n < 0) this.fail('negative LONG length');
    const b = this.take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private parseInt(s: string): number {
    const v = Number(s);
    if (!Number.isSafeInteger(v)) this.fail(`bad integer ${JSON.stringify(s)}`);
    return v;
  }
}

function isGlobal(v: unknown): v is PickleGlobal {
  return typeof v === 'object' && v !== null && 'module' in v && 'name' in v && !(v instanceof Map);
}

function isBuildable(v: unknown): v is Buildable {
  return typeof v === 'object' && v !== null && typeof (v as Buildable).setState === 'function';
}
