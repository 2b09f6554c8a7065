/**
 * TensorBoard event files (`trainer.tensorboard: true`): the scalars of metrics.jsonl (train loss and
 * learning rate, every dev and test metric) written under output_dir/tensorboard/ so `tensorboard
 * --logdir` shows the curves. The format is TensorFlow's: a TFRecord stream (length, masked CRC32C of
 * the length, data, masked CRC32C of the data) of Event protos, the first holding the file version and
 * each later one a Summary of `simple_value` scalars. Written here rather than with a library because
 * the npm writers pull in TensorFlow.js or are unmaintained; the protos are built with protobufjs
 * (field numbers from tensorflow/core/util/event.proto and framework/summary.proto), CRC32C comes from
 * @aws-crypto/crc32c.
 */
import { appendFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32c } from '@aws-crypto/crc32c';
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    Event: {
      oneofs: { what: { oneof: ['fileVersion', 'summary', 'sessionLog'] } },
      fields: {
        wallTime: { type: 'double', id: 1 },
        step: { type: 'int64', id: 2 },
        fileVersion: { type: 'string', id: 3 },
        summary: { type: 'Summary', id: 5 },
        sessionLog: { type: 'SessionLog', id: 7 },
      },
    },
    Summary: {
      fields: { value: { rule: 'repeated', type: 'SummaryValue', id: 1 } },
    },
    SummaryValue: {
      fields: { tag: { type: 'string', id: 1 }, simpleValue: { type: 'float', id: 2 } },
    },
    SessionLog: {
      // status: 1 = START. A START at step N tells TensorBoard to drop what an earlier run logged after N.
      fields: { status: { type: 'int32', id: 1 } },
    },
  },
});
export const EventProto = root.lookupType('Event');

/** The CRC TFRecord stores: CRC32C rotated right by 15 bits plus a constant, so CRCs of CRCs stay useful. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord: the data framed by its length and two masked CRCs. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

/** Tag prefix for each metrics.jsonl entry type; other entry fields that are not scalars are skipped. */
const PREFIX: Record<string, string> = { train: 'train', eval: 'dev', test: 'test' };
const NOT_SCALARS = new Set(['type', 'step', 'epoch']);

let filesOpened = 0;

export class TensorBoardLog {
  private constructor(private readonly file: string) {}

  /**
   * Starts a new event file in `dir`. A fresh run removes the event files of an earlier run there (they
   * are alembic's, like the metrics.jsonl it overwrites); a resumed one (resumeStep) keeps them and marks
   * where it restarts, as TensorFlow's writers do.
   */
  static open(dir: string, resumeStep?: number): TensorBoardLog {
    mkdirSync(dir, { recursive: true });
    if (resumeStep === undefined) {
      for (const name of readdirSync(dir)) {
        if (name.startsWith('events.out.tfevents.')) rmSync(path.join(dir, name));
      }
    }
    const seconds = Date.now() / 1000;
    // TensorBoard reads the files of a directory in name order: the time first, then a counter.
    const name = `events.out.tfevents.${Math.floor(seconds)}.${os.hostname()}.${process.pid}.${++filesOpened}`;
    const file = path.join(dir, name);
    const log = new TensorBoardLog(file);
    log.append({ wallTime: seconds, step: 0, fileVersion: 'brain.Event:2' });
    if (resumeStep !== undefined)
      log.append({ wallTime: seconds, step: resumeStep, sessionLog: { status: 1 } });
    return log;
  }

  /** Writes the scalars of one metrics.jsonl entry (`{type, step, ...numbers}`). */
  add(entry: Record<string, unknown>): void {
    const prefix = PREFIX[String(entry.type)];
    if (prefix === undefined) return;
    const value = Object.entries(entry)
      .filter(([key, v]) => !NOT_SCALARS.has(key) && typeof v === 'number' && Number.isFinite(v))
      .map(([key, v]) => ({ tag: `${prefix}/${key}`, simpleValue: v as number }));
    if (value.length === 0) return;
    this.append({ wallTime: Date.now() / 1000, step: Number(entry.step), summary: { value } });
  }

  private append(event: Record<string, unknown>): void {
    appendFileSync(this.file, tfRecord(EventProto.encode(EventProto.fromObject(event)).finish()));
  }
}
