import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { emptyGraph, timeEmptyGraph } from '../../../src/deploy/bench/host-floor.js';
import {
  httpBench,
  httpFloorBench,
  vocabTexts,
  type HttpBenchResult,
} from '../../../src/deploy/bench/http-bench.js';
import { benchTarget, describeTarget, graphSpecOf, randomIds } from '../../../src/deploy/bench/model-bench.js';
import { referenceQps } from '../../../bench/deploy-references.js';
import { checks, DEPLOY_EXTRAS } from '../../../bench/deploy-checks.js';
import { renderReport } from '../../../src/deploy/bench/bench-report.js';
import {
  runBench,
  type BenchReport,
  type ModelGroup,
  type ReferenceRequest,
} from '../../../src/deploy/bench/run-bench.js';
import { percentile, summarize } from '../../../src/deploy/bench/stats.js';
import { exportModelDir } from '../../../src/deploy/export/export-dir.js';
import { loadSession } from '../../../src/deploy/onnx/index.js';
import { parseConfig, type ModelConfig } from '../../../src/config/run-config.js';
import { train } from '../../../src/train/trainer.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir, writeSentimentSplits } from '../../helpers/tiny-data.js';

const PRESET_BOW = { embedding_dim: 128, hidden_size: 128 } as ModelConfig;

const latency = (qps: number) => ({ p50: 1, p95: 2, p99: 3, qps, runs: 100 });
const target = (runtime: 'libtorch' | 'onnx-fp32' | 'onnx-int8', dir: string) =>
  ({ runtime, dir, seq: 64 }) as never;

/** A one-text-per-request load test that answered `perSecond` requests for a second without errors. */
function httpResult(perSecond: number): HttpBenchResult {
  const counts = { requests: perSecond, seconds: 1, requestsPerSecond: perSecond, textsPerSecond: perSecond };
  return {
    ...counts,
    p50: 1,
    p99: 5,
    errors: 0,
    non2xx: 0,
    connections: 32,
    textsPerRequest: 1,
    generator: 'wrk',
  };
}

/** A report of one preset-shaped BOW group (seq 64) with the given rows, same-run rows and HTTP result. */
function bowReport(batchSizes: number[], group: Pick<ModelGroup, 'rows'> & Partial<ModelGroup>): BenchReport {
  const base = { name: 'bow', net: 'bow', model: PRESET_BOW, seq: 64, parameters: 1 };
  return { threads: 2, cpus: 2, load: [0.5, 0.6], batchSizes, groups: [{ ...base, ...group }] };
}

describe('benchmark statistics', () => {
  it('takes percentiles by nearest rank', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(sorted, 0.5), 5); // rank ceil(5) = 5
    assert.equal(percentile(sorted, 0.95), 10); // rank ceil(9.5) = 10
    assert.equal(percentile(sorted, 0.91), 10);
    assert.equal(percentile(sorted, 0.9), 9);
    assert.equal(percentile([4], 0.99), 4);
  });

  it('counts QPS in inputs: runs × batch over the measured seconds', () => {
    const s = summarize([2, 1, 3, 4], 32, 0.5);
    assert.equal(s.qps, (4 * 32) / 0.5);
    assert.equal(s.p50, 2);
    assert.equal(s.p99, 4);
    assert.equal(s.runs, 4);
  });

  it('finds the reference for the preset shapes only, and never for libtorch', () => {
    assert.equal(referenceQps('bow', PRESET_BOW, 64, 'onnx-fp32', 1)?.qps, 39_000);
    assert.equal(referenceQps('bow', PRESET_BOW, 64, 'onnx-fp32', 32)?.qps, 543_000);
    assert.equal(referenceQps('bow', PRESET_BOW, 32, 'onnx-fp32', 1), undefined);
    assert.equal(referenceQps('bow', PRESET_BOW, 64, 'libtorch', 1), undefined);
    assert.equal(referenceQps('bow', PRESET_BOW, 64, 'onnx-fp32', 8), undefined);
    const tr = { num_layers: 4, hidden_size: 256, num_heads: 4, ffn_size: 1024 } as ModelConfig;
    assert.equal(referenceQps('transformer', tr, 64, 'onnx-int8', 32)?.qps, 555);
    assert.equal(referenceQps('transformer', { ...tr, num_layers: 2 }, 64, 'onnx-fp32', 1), undefined);
  });

  it('passes and fails the checks from the figures', () => {
    const report = bowReport([1, 32], {
      rows: [
        { target: target('libtorch', 'm'), batch: 1, latency: latency(10_000) },
        { target: target('onnx-fp32', 'e'), batch: 1, latency: latency(36_000) }, // 0.92× of 39k
        { target: target('onnx-fp32', 'e'), batch: 32, latency: latency(400_000) }, // 0.74× of 543k
        { target: target('onnx-int8', 'q'), batch: 1, latency: latency(25_000) },
      ],
      sameRun: {
        name: 'x',
        rows: [
          { runtime: 'onnx-fp32', label: 'pytorch-exported', batch: 1, latency: latency(40_000) }, // 0.90×
          { runtime: 'onnx-int8', label: 'pytorch-exported int8', batch: 1, latency: latency(30_000) }, // 0.83× of it
        ],
      },
      http: {
        dir: 'e',
        runtime: 'onnx-fp32',
        result: httpResult(21_000), // 0.58× of 36k
      },
    });
    report.floor = {
      seq: 64,
      model: [
        { batch: 1, latency: latency(45_000) },
        { batch: 32, latency: latency(890_000) },
      ],
      http: httpResult(13_000),
    };
    const verdicts = checks(report);
    const expected: [boolean, RegExp][] = [
      [true, /^bow onnx fp32 batch 1: 36,000 QPS = 0\.92× the reference 39,000/],
      [false, /^bow onnx fp32 batch 32: 400,000 QPS = 0\.74× the reference 543,000/],
      [true, /^bow onnx fp32 batch 1: 0\.90× the PyTorch-exported graph timed in the same run/],
      [false, /^bow onnx int8 batch 1: 0\.83× onnxruntime's quantize_dynamic of the PyTorch-exported graph/],
      [true, /^bow: onnxruntime beats libtorch at batch 1 \(36,000 vs 10,000 QPS\)/],
      [
        false,
        /^bow: alembic serve sustains 21,000 texts\/s over HTTP = 0\.58× the model-only 36,000 QPS at batch 1/,
      ],
    ];
    assert.equal(verdicts.length, expected.length);
    verdicts.forEach((c, i) => {
      assert.match(c.what, expected[i][1]);
      assert.equal(c.pass, expected[i][0], c.what);
    });
    // A failed fixed-reference or HTTP check says what the machine itself reached in the run.
    assert.equal(verdicts[0].host, undefined);
    assert.equal(verdicts[1].host, 'in this run a graph that does nothing 1.64× (890,000 QPS)');
    assert.equal(verdicts[3].host, undefined);
    assert.equal(
      verdicts[5].host,
      'fastify answering without a model sustained 13,000 texts/s here = 0.36× that model-only QPS',
    );
    const text = renderReport(report, DEPLOY_EXTRAS);
    // alembic bench shows users their figures, not the project's acceptance checks.
    const userText = renderReport(report);
    assert.doesNotMatch(userText, /Checks:|PASS|FAIL/);
    assert.match(userText, /serves more than 1,000 QPS itself/);
    assert.match(
      text,
      /bow \(seq 64\)\s+onnx fp32\s+1\s+1\.000\s+2\.000\s+3\.000\s+36,000\s+39,000\s+0\.92×\s+0\.90×/,
    );
    assert.match(text, /bow \(seq 64\)\s+onnx int8\s+1\s+1\.000\s+2\.000\s+3\.000\s+25,000\s+0\.83×/);
    assert.match(text, /bow \(seq 64\)\s+pytorch-exported int8\s+1\s+1\.000\s+2\.000\s+3\.000\s+30,000/);
    assert.match(text, /serves more than 1,000 QPS itself/);
    assert.match(text, /host floor \(seq 64\)\s+empty graph\s+32\s+1\.000\s+2\.000\s+3\.000\s+890,000/);
    assert.match(text, /host floor\s+no model\s+13000\s+1\.0\s+13,000\s+13,000/);
    assert.match(
      text,
      /FAIL {2}bow onnx fp32 batch 32: .*\n {8}in this run a graph that does nothing 1\.64×/,
    );
  });

  it("says what PyTorch's own export reached against a fixed reference it fails", () => {
    const report = bowReport([32], {
      rows: [{ target: target('onnx-fp32', 'e'), batch: 32, latency: latency(300_000) }],
      sameRun: {
        name: 'x',
        rows: [{ runtime: 'onnx-fp32', label: 'pytorch-exported', batch: 32, latency: latency(200_000) }],
      },
    });
    // At another input length the floor says nothing about this model; at this one, far above the
    // reference (over 2×), it constrains nothing.
    report.floor = { seq: 128, model: [{ batch: 32, latency: latency(500_000) }] };
    const [fixed] = checks(report);
    assert.equal(fixed.pass, false);
    assert.equal(fixed.host, 'in this run the PyTorch-exported graph reached 0.37× of it');
    report.floor = { seq: 64, model: [{ batch: 32, latency: latency(1_100_000) }] };
    assert.equal(checks(report)[0].host, 'in this run the PyTorch-exported graph reached 0.37× of it');
    report.floor.model[0].latency = latency(1_000_000);
    assert.equal(
      checks(report)[0].host,
      'in this run the PyTorch-exported graph reached 0.37× of it; a graph that does nothing 1.84× (1,000,000 QPS)',
    );
  });
});

describe('benchmark runs', () => {
  let modelDir: string;
  let exportDir: string;

  before(async () => {
    const dir = tempDir('alembic-bench-');
    const files = writeSentimentSplits(dir, { train: 100, dev: 10, test: 1 });
    const config = parseConfig(
      {
        task: 'text_classification',
        dataset: { train: files.train, max_len: 16 },
        model: { net: 'bow', embedding_dim: 8, hidden_size: 8 },
        trainer: { max_steps: 5, batch_size: 16, threads: 1, output_dir: path.join(dir, 'run') },
      },
      path.join(dir, 'config.json'),
    );
    await train(config, { quiet: true, log: () => {} });
    modelDir = path.join(dir, 'run', 'best');
    exportDir = path.join(dir, 'export');
    await exportModelDir(modelDir, exportDir);
  });

  it('draws full-length ids that avoid the special tokens', () => {
    const rows = randomIds(new Rng(1), 3, 16, 7);
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.length, 16);
      assert.ok(r.every((id) => id === 5 || id === 6));
    }
  });

  it('times a trained and an exported directory at each batch size', async () => {
    const timing = { warmupSeconds: 0.05, seconds: 0.1, minRuns: 5 };
    for (const [dir, runtime] of [
      [modelDir, 'libtorch'],
      [exportDir, 'onnx-fp32'],
    ] as const) {
      const t = describeTarget(dir, 16);
      assert.equal(t.runtime, runtime);
      const rows = await benchTarget(t, { batchSizes: [1, 4], threads: 1, timing });
      assert.deepEqual(
        rows.map((r) => r.batch),
        [1, 4],
      );
      for (const r of rows) {
        assert.ok(r.latency.runs >= 5);
        assert.ok(r.latency.p50 > 0 && r.latency.p50 <= r.latency.p99);
        assert.ok(r.latency.qps > 0);
      }
    }
  });

  it("times a harness's reference graphs next to the exports they are given for", async () => {
    const seen: ReferenceRequest[] = [];
    const report = await runBench({
      dirs: [modelDir, exportDir],
      batchSizes: [1, 4],
      threads: 1,
      seq: 16,
      timing: { warmupSeconds: 0.05, seconds: 0.1, minRuns: 5 },
      // The export's own graph stands in for another framework's export of the same shape.
      references: (group) => {
        seen.push(group);
        const fp32 = group.targets.find((t) => t.runtime === 'onnx-fp32')!;
        return {
          name: 'self',
          graphs: { 'onnx-fp32': { graph: graphSpecOf(fp32), label: 'same graph' } },
          notes: ['no int8 reference: none asked for'],
        };
      },
    });
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0].targets.map((t) => t.runtime).sort(), ['libtorch', 'onnx-fp32']);
    assert.equal(seen[0].net, 'bow');
    const [g] = report.groups;
    assert.deepEqual(
      g.rows.map((r) => `${r.target.runtime} ${r.batch}`),
      ['libtorch 1', 'libtorch 4', 'onnx-fp32 1', 'onnx-fp32 4'],
    );
    assert.equal(g.sameRun?.name, 'self');
    assert.deepEqual(
      g.sameRun?.rows.map((r) => `${r.runtime} ${r.label} ${r.batch}`),
      ['onnx-fp32 same graph 1', 'onnx-fp32 same graph 4'],
    );
    assert.ok(g.sameRun!.rows.every((r) => r.latency.runs >= 5 && r.latency.qps > 0));
    const text = renderReport(report);
    assert.match(text, /bow \(seq 16\)\s+same graph\s+4\s/);
    assert.match(text, /\n {2}bow: no int8 reference: none asked for\n/);
  });

  it('times the host floor: a graph that returns its input unchanged', async () => {
    const session = await loadSession(emptyGraph());
    const ids = BigInt64Array.from([7n, 8n, 9n, 10n]);
    const out = await session.run({
      input_ids: { data: ids, dims: [2, 2] },
      attention_mask: { data: new BigInt64Array(4).fill(1n), dims: [2, 2] },
    });
    assert.deepEqual([...(out.echo.data as BigInt64Array)], [7n, 8n, 9n, 10n]);
    assert.deepEqual(out.echo.dims, [2, 2]);
    await session.release();
    const timing = { warmupSeconds: 0.05, seconds: 0.1, minRuns: 5 };
    const rows = await timeEmptyGraph(16, { batchSizes: [1, 4], threads: 1, timing });
    assert.deepEqual(
      rows.map((r) => r.batch),
      [1, 4],
    );
    assert.ok(rows.every((r) => r.latency.runs >= 5 && r.latency.qps > 0));
  });

  it(
    'load-tests the HTTP floor (fastify without a model) like alembic serve',
    { timeout: 60_000 },
    async () => {
      const r = await httpFloorBench({
        texts: ['a b', 'c d', 'e f'],
        connections: 4,
        maxRequests: 200,
        maxSeconds: 20,
        warmupSeconds: 0,
        textsPerRequest: 3,
        generator: 'autocannon',
      });
      assert.equal(r.requests, 200);
      assert.equal(r.errors + r.non2xx, 0);
      assert.ok(Math.abs(r.textsPerSecond - 3 * r.requestsPerSecond) < 1e-9 * r.textsPerSecond);
    },
  );

  it(
    'load-tests alembic serve over loopback with autocannon, bounded in requests',
    { timeout: 120_000 },
    async () => {
      const texts = vocabTexts(exportDir, 10, 4);
      assert.equal(texts.length, 4);
      assert.ok(texts.every((t) => t.split(' ').length === 10 && !/\[/.test(t)));
      const r = await httpBench(
        {
          dir: exportDir,
          connections: 4,
          maxRequests: 300,
          maxSeconds: 20,
          warmupSeconds: 0,
          textsPerRequest: 2,
          threads: 1,
          generator: 'autocannon',
        },
        16,
      );
      assert.equal(r.requests, 300);
      assert.equal(r.errors, 0);
      assert.equal(r.non2xx, 0);
      assert.equal(r.textsPerSecond, 2 * r.requestsPerSecond);
      assert.ok(r.p99 >= r.p50);
    },
  );
});
