/**
 * The deployment benchmark behind `alembic bench` and `npm run bench:deploy`: every given directory timed
 * model-only at each batch size (libtorch for trained directories, onnxruntime for exported ones), then,
 * per model, an HTTP load test of `alembic serve`, and the checks the guide cares about.
 */
import os from 'node:os';
import type { ModelConfig } from '../../config/run-config.js';
import { timeEmptyGraph, type HostFloor } from './host-floor.js';
import { httpBench, httpFloorBench, vocabTexts, type HttpBenchResult } from './http-bench.js';
import type { LoadGenerator } from './load-generator.js';
import {
  benchAgainst,
  benchTarget,
  describeTarget,
  type BenchRuntime,
  type BenchTarget,
  type ModelBenchRow,
  type OnnxGraphSpec,
} from './model-bench.js';
import { referenceFor } from './references.js';
import type { LatencySummary, TimingOptions } from './stats.js';
import {
  exportTorchReference,
  quantizerUnavailable,
  quantizeTorchReference,
  torchReferenceUnavailable,
} from './torch-reference.js';

export interface BenchOptions {
  dirs: string[];
  batchSizes: number[];
  threads: number;
  timing: TimingOptions;
  seq?: number;
  /** HTTP load test settings; undefined skips it. */
  http?: {
    connections: number;
    maxRequests: number;
    maxSeconds: number;
    warmupSeconds: number;
    textsPerRequest: number;
    threads: number;
    serveArgs?: string[];
    generator: LoadGenerator;
  };
  /**
   * Folder for PyTorch-exported graphs of the reference shapes, timed in the same run (needs
   * /usr/bin/python3 with torch); undefined skips them.
   */
  sameRunDir?: string;
  /** Also time the host floor (host-floor.ts): an empty graph, and fastify without a model when HTTP is tested. */
  floors?: boolean;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
}

/** The directories of one trained model: the libtorch original and its exports. */
export interface ModelGroup {
  name: string;
  net: string;
  model: ModelConfig;
  seq: number;
  parameters: number;
  rows: ModelBenchRow[];
  http?: { dir: string; runtime: BenchRuntime; result: HttpBenchResult };
  /** PyTorch's export (onnx-fp32) and onnxruntime's quantisation of it (onnx-int8), timed with ours. */
  sameRun?: { name: string; rows: SameRunRow[] };
  /** Why there is no same-run reference for a shape that has one. */
  sameRunSkipped?: string;
  /** Why there is no same-run int8 reference though an int8 export was timed. */
  sameRunInt8Skipped?: string;
}

export interface BenchReport {
  groups: ModelGroup[];
  threads: number;
  cpus: number;
  /** 1-minute load average before and after: a busy machine makes every figure lower. */
  load: [number, number];
  batchSizes: number[];
  /** What the machine does with no model (when asked for). */
  floor?: HostFloor;
}

const RUNTIME_ORDER: BenchRuntime[] = ['libtorch', 'onnx-fp32', 'onnx-int8'];

/** Directories exported from the same trained model share its manifest's creation time. */
function groupTargets(targets: BenchTarget[]): Map<string, BenchTarget[]> {
  const groups = new Map<string, BenchTarget[]>();
  for (const t of targets) {
    const key = `${t.manifest.net}|${t.manifest.created}|${t.seq}`;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  for (const list of groups.values())
    list.sort((a, b) => RUNTIME_ORDER.indexOf(a.runtime) - RUNTIME_ORDER.indexOf(b.runtime));
  return groups;
}

function groupName(t: BenchTarget, taken: Set<string>): string {
  const m = t.manifest.config.model;
  let name =
    t.manifest.net === 'transformer' ? `transformer L${m.num_layers} H${m.hidden_size}` : t.manifest.net;
  if (taken.has(name)) {
    let i = 2;
    while (taken.has(`${name} #${i}`)) i++;
    name = `${name} #${i}`;
  }
  taken.add(name);
  return name;
}

export interface SameRunRow {
  runtime: 'onnx-fp32' | 'onnx-int8';
  batch: number;
  latency: LatencySummary;
}

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const log = opts.log ?? (() => {});
  const loadBefore = os.loadavg()[0];
  const targets = opts.dirs.map((d) => describeTarget(d, opts.seq));
  const taken = new Set<string>();
  const groups: ModelGroup[] = [];
  let floor: HostFloor | undefined;
  if (opts.floors && targets.length > 0) {
    log(`timing the host floor: a graph that does nothing, at batch ${opts.batchSizes.join(', ')}…`);
    floor = { seq: targets[0].seq, model: await timeEmptyGraph(targets[0].seq, opts) };
  }
  for (const list of groupTargets(targets).values()) {
    const first = list[0];
    const group: ModelGroup = {
      name: groupName(first, taken),
      net: first.manifest.net,
      model: first.manifest.config.model,
      seq: first.seq,
      parameters: first.manifest.parameters,
      rows: [],
    };
    const ref = referenceFor(group.net, group.model, group.seq);
    const references = new Map<BenchRuntime, OnnxGraphSpec>();
    if (opts.sameRunDir && ref) {
      const why = torchReferenceUnavailable();
      if (why) group.sameRunSkipped = why;
      else {
        log(`exporting the PyTorch version of ${ref.name} for a same-run comparison…`);
        try {
          const file = exportTorchReference(ref.net, first.vocabSize, opts.sameRunDir);
          references.set('onnx-fp32', referenceGraph(file));
          const int8 = list.find((t) => t.runtime === 'onnx-int8');
          const noQuantizer = int8 && quantizerUnavailable();
          if (noQuantizer) group.sameRunInt8Skipped = noQuantizer;
          else if (int8) {
            const bits = int8.manifest.onnx?.int8WeightBits ?? 8;
            log(`quantising it with onnxruntime's quantize_dynamic (${bits}-bit weights)…`);
            references.set('onnx-int8', referenceGraph(quantizeTorchReference(file, bits)));
          }
        } catch (e) {
          group.sameRunSkipped = (e as Error).message;
        }
      }
    }
    for (const t of list) {
      log(`timing ${group.name} ${t.runtime} (${t.dir}) at batch ${opts.batchSizes.join(', ')}…`);
      const reference = references.get(t.runtime);
      if (reference && (t.runtime === 'onnx-fp32' || t.runtime === 'onnx-int8')) {
        const both = await benchAgainst(t, reference, opts);
        group.rows.push(...both.rows);
        group.sameRun ??= { name: ref!.name, rows: [] };
        group.sameRun.rows.push(
          ...both.reference.map((r) => ({ runtime: t.runtime as SameRunRow['runtime'], ...r })),
        );
      } else group.rows.push(...(await benchTarget(t, opts)));
    }
    if (opts.http) {
      const served = ['onnx-fp32', 'onnx-int8', 'libtorch']
        .map((r) => list.find((t) => t.runtime === r))
        .find((t) => t !== undefined)!;
      log(`HTTP load test of alembic serve with ${group.name} ${served.runtime}…`);
      const result = await httpBench({ dir: served.dir, ...opts.http }, first.seq);
      group.http = { dir: served.dir, runtime: served.runtime, result };
      if (floor && !floor.http) {
        log('HTTP load test of the host floor: fastify answering without a model…');
        floor.http = await httpFloorBench({ ...opts.http, texts: vocabTexts(served.dir, first.seq, 256) });
      }
    }
    groups.push(group);
  }
  return {
    groups,
    threads: opts.threads,
    cpus: os.cpus().length,
    load: [loadBefore, os.loadavg()[0]],
    batchSizes: opts.batchSizes,
    ...(floor ? { floor } : {}),
  };
}

/** A PyTorch-exported reference graph: ids and mask in, probabilities out. */
function referenceGraph(file: string): OnnxGraphSpec {
  const inputs = [
    { name: 'input_ids', dims: [] },
    { name: 'attention_mask', dims: [] },
  ];
  return { file, inputs, outputs: ['probabilities'] };
}
