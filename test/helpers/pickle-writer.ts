/**
 * A small pickle writer for tests: it emits the opcodes Python's pickle (protocols 2 and 4) uses for the
 * values checkpoints contain, so tests can build PyTorch and Paddle checkpoint files — and malicious ones —
 * without Python. Values are described as a tree (see Py); globals are memoised and reused with BINGET, as
 * Python's pickler does.
 */

export type Py =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Py[]
  | { t: 'tuple'; items: Py[] }
  | { t: 'dict'; entries: [Py, Py][] }
  | { t: 'odict'; entries: [Py, Py][] }
  | { t: 'global'; module: string; name: string }
  | { t: 'reduce'; fn: Py; args: Py }
  | { t: 'build'; obj: Py; state: Py }
  | { t: 'persid'; pid: Py }
  /** Raw opcode bytes, for malformed or hostile pickles. */
  | { t: 'raw'; bytes: number[] };

export const tuple = (...items: Py[]): Py => ({ t: 'tuple', items });
export const global = (module: string, name: string): Py => ({ t: 'global', module, name });
export const reduce = (fn: Py, args: Py): Py => ({ t: 'reduce', fn, args });

class Writer {
  readonly out: number[] = [];
  private readonly memo = new Map<string, number>();

  constructor(readonly protocol: 2 | 4) {}

  private u32(n: number): void {
    this.out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  private utf8(op: 'short' | 'long', s: string): void {
    const b = new TextEncoder().encode(s);
    if (op === 'short' && b.length < 256) this.out.push(0x8c, b.length);
    else {
      this.out.push(0x58);
      this.u32(b.length);
    }
    for (const x of b) this.out.push(x);
  }

  private remember(key: string): void {
    const id = this.memo.size;
    this.memo.set(key, id);
    if (this.protocol >= 4) this.out.push(0x94);
    else this.out.push(0x71, id);
  }

  write(v: Py): void {
    if (v === null) this.out.push(0x4e);
    else if (v === true) this.out.push(0x88);
    else if (v === false) this.out.push(0x89);
    else if (typeof v === 'bigint') this.long(v);
    else if (typeof v === 'number') this.number(v);
    else if (typeof v === 'string') this.utf8(this.protocol >= 4 ? 'short' : 'long', v);
    else if (v instanceof Uint8Array) this.bytes(v);
    else if (Array.isArray(v)) {
      this.out.push(0x5d, 0x28);
      v.forEach((x) => this.write(x));
      this.out.push(0x65);
    } else if (v.t === 'tuple') {
      if (v.items.length === 0) this.out.push(0x29);
      else {
        this.out.push(0x28);
        v.items.forEach((x) => this.write(x));
        this.out.push(0x74);
      }
    } else if (v.t === 'dict' || v.t === 'odict') {
      if (v.t === 'odict') this.write(reduce(global('collections', 'OrderedDict'), tuple()));
      else this.out.push(0x7d);
      this.out.push(0x28);
      for (const [k, x] of v.entries) {
        this.write(k);
        this.write(x);
      }
      this.out.push(0x75);
    } else if (v.t === 'global') this.global(v.module, v.name);
    else if (v.t === 'reduce') {
      this.write(v.fn);
      this.write(v.args);
      this.out.push(0x52);
    } else if (v.t === 'build') {
      this.write(v.obj);
      this.write(v.state);
      this.out.push(0x62);
    } else if (v.t === 'persid') {
      this.write(v.pid);
      this.out.push(0x51);
    } else this.out.push(...v.bytes);
  }

  private global(module: string, name: string): void {
    const key = `${module}\n${name}`;
    const id = this.memo.get(key);
    if (id !== undefined) {
      this.out.push(0x68, id);
      return;
    }
    if (this.protocol >= 4) {
      this.utf8('short', module);
      this.utf8('short', name);
      this.out.push(0x93);
    } else {
      this.out.push(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    }
    this.remember(key);
  }

  private number(n: number): void {
    if (!Number.isInteger(n)) {
      this.out.push(0x47);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, n, false);
      this.out.push(...b);
    } else if (n >= 0 && n < 256) this.out.push(0x4b, n);
    else if (n >= 0 && n < 65536) this.out.push(0x4d, n & 0xff, n >> 8);
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      this.out.push(0x4a);
      this.u32(n);
    } else this.long(BigInt(n));
  }

  private long(v: bigint): void {
    const bytes: number[] = [];
    let x = v;
    while (x !== 0n && x !== -1n) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    }
    if (bytes.length === 0 || v >= 0n !== ((bytes[bytes.length - 1] & 0x80) === 0))
      bytes.push(v < 0n ? 0xff : 0);
    this.out.push(0x8a, bytes.length, ...bytes);
  }

  /** Protocol 2 has no bytes type: Python 3 pickles bytes as _codecs.encode(latin-1 text, 'latin1'). */
  private bytes(b: Uint8Array): void {
    if (this.protocol >= 4) {
      this.out.push(0x42);
      this.u32(b.length);
      for (const x of b) this.out.push(x);
    } else {
      this.write(
        reduce(
          global('_codecs', 'encode'),
          tuple(Array.from(b, (x) => String.fromCharCode(x)).join(''), 'latin1'),
        ),
      );
    }
  }
}

/** The pickle of `value` (PROTO, the value, STOP; protocol 4 adds a FRAME as Python does). */
export function pickle(value: Py, protocol: 2 | 4 = 2): Uint8Array {
  const w = new Writer(protocol);
  w.write(value);
  const body = [...w.out, 0x2e];
  const head = [0x80, protocol];
  if (protocol >= 4) {
    const frame = new Uint8Array(9);
    frame[0] = 0x95;
    new DataView(frame.buffer).setBigUint64(1, BigInt(body.length), true);
    head.push(...frame);
  }
  return Uint8Array.from([...head, ...body]);
}
