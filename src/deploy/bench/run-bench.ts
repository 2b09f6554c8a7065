/**
 * The deployment benchmark behind `alembic bench` and `npm run bench:deploy`: every given directory timed
 * model-only at each batch size (libtorch for trained directories, onnxruntime for exported ones), then,
 * per model, an HTTP load test of `alembic serve`. A benchmark harness may pass a `references` hook whose
 * graphs (another framework's export of the same shape) are timed interleaved with the model's exports.
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
import type { LatencySummary, TimingOptions } from './stats.js';

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
   * Reference graphs to time next to a model's exports in the same run (a benchmark harness supplies them,
   * e.g. another framework's export of the same shape); undefined times the model directories only.
   */
  references?: ReferenceHook;
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
  /** The reference graphs the `references` hook gave for this group, timed with its exports. */
  sameRun?: { name: string; rows: SameRunRow[] };
  /** What the `references` hook said about this group (e.g. why a reference could not be made). */
  sameRunNotes?: string[];
}

/** The reference graph timed against the export of one runtime, and its label in the report. */
export interface ReferenceGraph {
  graph: OnnxGraphSpec;
  label: string;
}

/** What a `references` hook gives for one model group: graphs per exported runtime, and notes. */
export interface GroupReferences {
  name: string;
  graphs: Partial<Record<SameRunRow['runtime'], ReferenceGraph>>;
  notes?: string[];
}

/** A group as the `references` hook sees it: the model's shape and the directories that will be timed. */
export interface ReferenceRequest {
  net: string;
  model: ModelConfig;
  seq: number;
  targets: BenchTarget[];
}

export type ReferenceHook = (
  group: ReferenceRequest,
  log: (line: string) => void,
) => GroupReferences | undefined | Promise<GroupReferences | undefined>;

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
  /** The reference's label (ReferenceGraph.label). */
  label: string;
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
    const refs = await opts.references?.({ ...group, targets: list }, log);
    if (refs?.notes?.length) group.sameRunNotes = refs.notes;
    for (const t of list) {
      log(`timing ${group.name} ${t.runtime} (${t.dir}) at batch ${opts.batchSizes.join(', ')}…`);
      const runtime = t.runtime;
      const reference = runtime === 'libtorch' ? undefined : refs?.graphs[runtime];
      if (refs && reference && runtime !== 'libtorch') {
        const both = await benchAgainst(t, reference.graph, opts);
        group.rows.push(...both.rows);
        group.sameRun ??= { name: refs.name, rows: [] };
        group.sameRun.rows.push(...both.reference.map((r) => ({ runtime, label: reference.label, ...r })));
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
