/**
 * The host floor: what this machine does with no model at all, timed in the same run as the models, so a
 * report can tell a figure alembic could still reach from one the machine cannot. Two floors:
 *   - model-only: a graph that returns its input, fed and read like a classifier, in onnxruntime-node — the
 *     per-call cost of the runtime and its Node binding, which no graph can go below;
 *   - HTTP: fastify answering a fixed prediction (floor-server.ts) — the per-request cost of the stack
 *     alembic serve stands on, which no model behind it can go below.
 */
import { OnnxGraphBuilder } from '../onnx/index.js';
import { INPUT_IDS, ATTENTION_MASK } from '../export/io.js';
import type { HttpBenchResult } from './http-bench.js';
import { benchGraph, type ModelBenchOptions } from './model-bench.js';
import type { LatencySummary } from './stats.js';

export interface HostFloor {
  /** Input length of the empty graph's feeds. */
  seq: number;
  /** The empty graph at each batch size (QPS = inputs per second, as for the models). */
  model: { batch: number; latency: LatencySummary }[];
  /** fastify without a model, with the texts and load settings of the first HTTP test. */
  http?: HttpBenchResult;
}

/** A classifier's inputs (ids and mask) in, the ids back out through Identity: a graph that does nothing. */
export function emptyGraph(): Uint8Array {
  const g = new OnnxGraphBuilder('alembic_host_floor');
  const ids = g.input(INPUT_IDS, 'int64', ['batch', 'seq']);
  g.input(ATTENTION_MASK, 'int64', ['batch', 'seq']);
  g.output(g.op('Identity', [ids]), 'int64', ['batch', 'seq'], { as: 'echo' });
  return g.toModel();
}

/** Times the empty graph at each batch size with the models' settings. */
export function timeEmptyGraph(seq: number, opts: ModelBenchOptions): Promise<HostFloor['model']> {
  const spec = {
    file: '(empty graph)',
    bytes: emptyGraph(),
    inputs: [INPUT_IDS, ATTENTION_MASK].map((name) => ({ name, dims: ['batch', 'seq'] })),
    outputs: ['echo'],
  };
  return benchGraph(spec, seq, opts);
}
