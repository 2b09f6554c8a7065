import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/run-config.js';
import { readMetricsLog, train } from '../../src/train/trainer.js';
import { stopAfterSteps } from '../../src/train/stop-after.js';
import { tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';

// The reader below is written from the formats' specifications, independently of src/train/tensorboard.ts:
// TFRecord framing with masked CRC32C, and the protobuf wire format of Event / Summary / SessionLog.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const masked = (crc: number) => (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;

/** Protobuf fields of a message: field number → values (numbers for varints and fixed, bytes otherwise). */
function decodeMessage(bytes: Buffer): Map<number, (number | Buffer)[]> {
  const fields = new Map<number, (number | Buffer)[]>();
  let at = 0;
  const varint = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[at++];
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    let value: number | Buffer;
    switch (key & 7) {
      case 0:
        value = varint();
        break;
      case 1:
        value = bytes.readDoubleLE(at);
        at += 8;
        break;
      case 2: {
        const length = varint();
        value = bytes.subarray(at, at + length);
        at += length;
        break;
      }
      case 5:
        value = bytes.readFloatLE(at);
        at += 4;
        break;
      default:
        throw new Error(`wire type ${key & 7}`);
    }
    const list = fields.get(key >>> 3) ?? [];
    list.push(value);
    fields.set(key >>> 3, list);
  }
  return fields;
}

interface Event {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars?: Record<string, number>;
  sessionStatus?: number;
}

function readEventFile(file: string): Event[] {
  const data = readFileSync(file);
  const events: Event[] = [];
  for (let at = 0; at < data.length;) {
    const length = Number(data.readBigUInt64LE(at));
    assert.equal(data.readUInt32LE(at + 8), masked(crc32c(data.subarray(at, at + 8))), 'length CRC');
    const body = data.subarray(at + 12, at + 12 + length);
    assert.equal(data.readUInt32LE(at + 12 + length), masked(crc32c(body)), 'data CRC');
    at += 12 + length + 4;
    const f = decodeMessage(body);
    const event: Event = { wallTime: f.get(1)![0] as number, step: (f.get(2)?.[0] as number) ?? 0 };
    if (f.has(3)) event.fileVersion = (f.get(3)![0] as Buffer).toString();
    if (f.has(5)) {
      event.scalars = {};
      for (const v of decodeMessage(f.get(5)![0] as Buffer).get(1) ?? []) {
        const value = decodeMessage(v as Buffer);
        event.scalars[(value.get(1)![0] as Buffer).toString()] = value.get(2)![0] as number;
      }
    }
    if (f.has(7)) event.sessionStatus = decodeMessage(f.get(7)![0] as Buffer).get(1)![0] as number;
    events.push(event);
  }
  return events;
}

function config(dir: string) {
  const files = writeSentimentSplits(dir, { train: 120, dev: 30, test: 30 });
  return parseConfig(
    {
      task: 'text_classification',
      dataset: { train: files.train, dev: files.dev, test: files.test, max_len: 32 },
      model: { net: 'bow', embedding_dim: 16, hidden_size: 16 },
      trainer: {
        epochs: 2,
        batch_size: 16,
        train_log_step: 3,
        eval_step: 5,
        save_model_step: 5,
        threads: 1,
        tensorboard: true,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
}

const eventFiles = (out: string) =>
  readdirSync(path.join(out, 'tensorboard'))
    .sort()
    .map((name) => path.join(out, 'tensorboard', name));

test('the CRC32C of the test reader is the standard one', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('trainer.tensorboard writes every metrics.jsonl scalar as a TensorBoard event', async () => {
  const c = config(tempDir());
  await train(c, { quiet: true, log: () => {} });
  const out = c.trainer.output_dir;
  const files = eventFiles(out);
  assert.equal(files.length, 1);
  assert.match(path.basename(files[0]), /^events\.out\.tfevents\.\d+\./);
  const events = readEventFile(files[0]);
  assert.equal(events[0].fileVersion, 'brain.Event:2');
  const scalars = events.filter((e) => e.scalars);
  const log = readMetricsLog(path.join(out, 'metrics.jsonl'));
  assert.ok(log.some((e) => e.type === 'eval') && log.some((e) => e.type === 'test'));
  // One event per log entry, in order, with every number of the entry (as float32).
  assert.equal(scalars.length, log.length);
  log.forEach((entry, i) => {
    const prefix = { train: 'train', eval: 'dev', test: 'test' }[entry.type as string]!;
    const expected = Object.fromEntries(
      Object.entries(entry)
        .filter(([k]) => !['type', 'step', 'epoch'].includes(k))
        .map(([k, v]) => [`${prefix}/${k}`, Math.fround(Number(v))]),
    );
    assert.equal(scalars[i].step, entry.step);
    assert.deepEqual(scalars[i].scalars, expected);
  });
  assert.ok('train/loss' in scalars[0].scalars! && 'train/lr' in scalars[0].scalars!);
  assert.ok(scalars.some((e) => 'dev/accuracy' in e.scalars! && 'dev/macro_f1' in e.scalars!));
  for (const e of events) assert.ok(Math.abs(e.wallTime - Date.now() / 1000) < 600);
});

test('a resumed run adds an event file that marks the restart step', async () => {
  const c = config(tempDir());
  await train(c, { quiet: true, log: () => {}, ...stopAfterSteps(7) });
  await train(c, { quiet: true, log: () => {}, resume: true });
  const files = eventFiles(c.trainer.output_dir);
  assert.equal(files.length, 2);
  const resumed = readEventFile(files[1]);
  assert.deepEqual(
    resumed.filter((e) => e.sessionStatus !== undefined).map((e) => [e.step, e.sessionStatus]),
    [[7, 1]], // stopAfterSteps saves a checkpoint where it stops
  );
  // (The test metrics are logged at the best dev step, which may come before the restart.)
  const trainAndDev = resumed.filter(
    (e) => e.scalars && !Object.keys(e.scalars).some((k) => k.startsWith('test/')),
  );
  assert.ok(trainAndDev.length > 0 && trainAndDev.every((e) => e.step > 7));
  // A fresh run in the same directory starts the event files over.
  await train(c, { quiet: true, log: () => {} });
  assert.equal(eventFiles(c.trainer.output_dir).length, 1);
});
