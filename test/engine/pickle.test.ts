import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CODECS_ENCODE, isTuple, ORDERED_DICT, unpickle, type PickleGlobal } from '../../src/engine/pickle.js';
import { UserError } from '../../src/util/errors.js';
import { global, pickle, reduce, tuple, type Py } from '../helpers/pickle-writer.js';
import { tempDir } from '../helpers/tiny-data.js';

const globals = new Map<string, PickleGlobal>([
  ['collections.OrderedDict', ORDERED_DICT],
  ['_codecs.encode', CODECS_ENCODE],
]);
const load = (bytes: Uint8Array) => unpickle(bytes, { source: 'x.pkl', globals });

for (const protocol of [2, 4] as const) {
  test(`protocol ${protocol}: containers, numbers, strings, bytes and memoised globals round-trip`, () => {
    const value: Py = {
      t: 'odict',
      entries: [
        ['ints', [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 40, -(2 ** 40)]],
        ['big', 2n ** 70n],
        ['float', 0.25],
        ['text', '中文 ünï'],
        ['bytes', Uint8Array.from([0, 1, 200, 255])],
        ['flags', tuple(true, false, null)],
        ['nested', { t: 'odict', entries: [['k', tuple()]] }],
      ],
    };
    const out = load(pickle(value, protocol)) as Map<unknown, unknown>;
    assert.deepEqual([...out.keys()], ['ints', 'big', 'float', 'text', 'bytes', 'flags', 'nested']);
    assert.deepEqual(out.get('ints'), [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 40, -(2 ** 40)]);
    assert.equal(out.get('big'), 2n ** 70n);
    assert.equal(out.get('float'), 0.25);
    assert.equal(out.get('text'), '中文 ünï');
    assert.deepEqual([...(out.get('bytes') as Uint8Array)], [0, 1, 200, 255]);
    assert.ok(isTuple(out.get('flags')));
    assert.deepEqual([...(out.get('flags') as unknown[])], [true, false, null]);
    assert.ok(isTuple((out.get('nested') as Map<string, unknown>).get('k')));
  });
}

/** Hostile pickles: each names a global that would run a command creating `marker`. */
function hostile(marker: string): Array<[string, Uint8Array]> {
  const cmd = `touch ${marker}`;
  return [
    ['os.system', pickle(reduce(global('os', 'system'), tuple(cmd)))],
    ['posix.system', pickle(reduce(global('posix', 'system'), tuple(cmd)), 4)],
    ['builtins.eval', pickle(reduce(global('builtins', 'eval'), tuple(`__import__('os').system('${cmd}')`)))],
    ['subprocess.Popen', pickle(reduce(global('subprocess', 'Popen'), tuple(['touch', marker])), 4)],
    // The attack hidden inside an allowed container, after harmless entries.
    [
      'os.system',
      pickle({
        t: 'odict',
        entries: [
          ['a', 1],
          ['b', reduce(global('os', 'system'), tuple(cmd))],
        ],
      }),
    ],
  ];
}

test('a global outside the allowlist stops loading with the file and the global named; nothing runs', () => {
  const marker = path.join(tempDir(), 'pwned');
  for (const [name, bytes] of hostile(marker)) {
    assert.throws(
      () => load(bytes),
      (e: Error) =>
        e instanceof UserError &&
        e.message === `x.pkl: pickle: refused to load the global ${name} (not a tensor or container type)`,
      name,
    );
  }
  assert.equal(existsSync(marker), false);
});

test('unknown opcodes, bad memo references and truncation are one-line errors', () => {
  // INST (0x69) and OBJ (0x6f) build arbitrary classes: not implemented on purpose.
  assert.throws(
    () => load(Uint8Array.from([0x80, 2, 0x69, 0x6f, 0x73, 0x0a, 0x2e])),
    /x\.pkl: pickle: unsupported opcode 0x69 at byte 2/,
  );
  assert.throws(() => load(Uint8Array.from([0x80, 2, 0x68, 7, 0x2e])), /memo entry 7 was never stored/);
  assert.throws(() => load(Uint8Array.from([0x80, 2, 0x58, 9, 0, 0, 0, 0x61])), /truncated/);
  assert.throws(() => load(Uint8Array.from([0x80, 2, 0x2e])), /stack underflow/);
  // REDUCE on a plain value (not an allowed callable) is refused too.
  assert.throws(
    () => load(pickle(reduce('os.system', tuple('x')))),
    /REDUCE on something that is not an allowed callable/,
  );
});

test('_codecs.encode only ever encodes latin-1', () => {
  assert.throws(
    () => load(pickle(reduce(global('_codecs', 'encode'), tuple('x', 'rot13')))),
    /_codecs\.encode with "rot13"/,
  );
});
