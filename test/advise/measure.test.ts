import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { linearTicks, logTicks, scatterLayout } from '../../src/advise/chart.js';
import { sampleData } from '../../src/advise/measure-data.js';
import {
  dominates,
  paretoTable,
  recommend,
  targetsFor,
  type Measured,
  type ParetoRow,
} from '../../src/advise/pareto.js';
import {
  renderMeasureHtml,
  renderMeasureText,
  renderScatterSvg,
  type MeasureReport,
} from '../../src/advise/advice-report.js';
import { svgToPng } from '../../src/advise/svg-png.js';
import { crc32, drawScatterPng, encodePng, hexToRgba, PNG_SIGNATURE, Raster } from '../../src/advise/png.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/tiny-data.js';

const ROOT = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));

function measured(id: Measured['id'], value: number, qps: number): Measured {
  return {
    id,
    name: id.toUpperCase(),
    role: 'serve',
    value,
    qpsBatch1: qps / 10,
    qpsBatch32: qps,
    latencyMs: 10_000 / qps,
    parameters: 1000,
    steps: 10,
    trainSeconds: 1,
    modelDir: '/nowhere',
  };
}

// LSTM: accurate and slow; BOW: fast, less accurate; CNN: slower and less accurate than BOW (dominated).
const LSTM = measured('lstm', 0.9, 100);
const BOW = measured('bow', 0.8, 1000);
const CNN = measured('cnn', 0.7, 500);

const targets = (accuracy: number | undefined, qps: number | undefined, machines = 1) =>
  targetsFor(
    'accuracy',
    false,
    { qps, accuracy: accuracy === undefined ? undefined : { target: accuracy } },
    machines,
  );

test('the frontier keeps exactly the undominated candidates', () => {
  assert.equal(dominates(BOW, CNN, false), true);
  assert.equal(dominates(CNN, BOW, false), false);
  assert.equal(dominates(LSTM, BOW, false), false);
  assert.equal(dominates(BOW, BOW, false), false, 'equal is not better');
  const rows = paretoTable([LSTM, BOW, CNN], targets(0.85, 300));
  assert.deepEqual(
    rows.map((r) => r.id),
    ['bow', 'cnn', 'lstm'],
    'fastest first',
  );
  const by = Object.fromEntries(rows.map((r) => [r.id, r]));
  assert.equal(by.cnn.onFrontier, false);
  assert.deepEqual(by.cnn.dominatedBy, ['bow']);
  assert.equal(by.bow.onFrontier, true);
  assert.equal(by.lstm.onFrontier, true);
  assert.deepEqual(
    rows.map((r) => [r.meetsAccuracy, r.meetsQps]),
    [
      [false, true],
      [false, true],
      [true, false],
    ],
  );
  // Lower-is-better metrics flip the accuracy axis: perplexity 20 beats 30.
  const ppl = paretoTable([measured('gru', 20, 100), measured('lstm', 30, 50)], {
    ...targets(undefined, undefined),
    metric: 'perplexity',
    lowerIsBetter: true,
  });
  assert.deepEqual(
    ppl.map((r) => [r.id, r.onFrontier]),
    [
      ['gru', true],
      ['lstm', false],
    ],
  );
});

test('the recommendation: cheapest that meets the constraints, else distil, scale out or best effort', () => {
  const decide = (acc: number | undefined, qps: number | undefined) => {
    const t = targets(acc, qps);
    return recommend(paretoTable([LSTM, BOW, CNN], t), t);
  };
  // Both BOW and LSTM meet 0.75 / 50 QPS: serve the faster.
  assert.deepEqual(pick(decide(0.75, 50)), ['serve', 'bow']);
  // No accuracy target: the most accurate that is fast enough.
  assert.deepEqual(pick(decide(undefined, 50)), ['serve', 'lstm']);
  // 0.85 at 300 QPS: LSTM is accurate but slow, BOW and CNN fast but weak → distil LSTM into BOW, the
  // more accurate of the fast ones.
  const distil = decide(0.85, 300);
  assert.equal(distil.kind, 'distil');
  assert.ok(distil.kind === 'distil');
  assert.equal(distil.teacher, 'lstm');
  assert.equal(distil.student, 'bow');
  assert.equal(distil.method, 'data');
  assert.match(distil.text, /^Distil LSTM into BOW/);
  // 0.85 at 2,000 QPS: nothing fast enough → LSTM on ceil(2000 / 100) = 20 machines.
  const scale = decide(0.85, 2000);
  assert.ok(scale.kind === 'scale_out');
  assert.equal(scale.id, 'lstm');
  assert.equal(scale.machines, 20);
  // 0.95: nothing accurate enough → the most accurate of the fast ones (BOW 0.8 beats CNN 0.7).
  assert.deepEqual(pick(decide(0.95, 300)), ['best_effort', 'bow']);
  // The QPS target is for all serving machines: 1,500 over 2 machines is 750 each, which BOW serves.
  const t = targets(0.75, 1500, 2);
  assert.equal(t.qpsPerMachine, 750);
  assert.deepEqual(pick(recommend(paretoTable([LSTM, BOW, CNN], t), t)), ['serve', 'bow']);
});

function pick(r: ReturnType<typeof recommend>): [string, string] {
  return [r.kind, r.kind === 'distil' ? r.student : r.id];
}

test('PNG: CRC-32 check values, chunk layout and pixels survive a round trip', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
  const pixels = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 128]);
  const png = encodePng(2, 1, pixels);
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(
      png.readUInt32BE(at + 8 + length),
      crc32(png.subarray(at + 4, at + 8 + length)),
      `${type} CRC`,
    );
    chunks.push({ type, data });
    at += 12 + length;
  }
  assert.deepEqual(
    chunks.map((c) => c.type),
    ['IHDR', 'IDAT', 'IEND'],
  );
  assert.deepEqual([...chunks[0].data], [0, 0, 0, 2, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  // One row: filter byte 0, then the RGBA bytes unchanged.
  assert.deepEqual([...inflateSync(chunks[1].data)], [0, 255, 0, 0, 255, 0, 255, 0, 128]);
  assert.throws(() => encodePng(2, 2, pixels), /8 bytes for 2×2/);
});

test('the raster draws lines, dashes and discs where asked', () => {
  const white = hexToRgba('#ffffff');
  const red = hexToRgba('#ff0000');
  const img = new Raster(20, 10, white);
  img.line(0, 2, 19, 2, red, 1, [2, 2]);
  assert.deepEqual(
    Array.from({ length: 8 }, (_, x) => img.get(x, 2)[1] === 0),
    [true, true, false, false, true, true, false, false],
  );
  img.disc(10, 6, 2, red);
  assert.deepEqual(img.get(10, 6), red);
  assert.deepEqual(img.get(12, 6), red);
  assert.deepEqual(img.get(12, 8), white, 'outside the radius');
});

test('axis ticks: decades on the log axis, round steps on the linear one', () => {
  assert.deepEqual(logTicks(0.8, 2.9), [10, 100]);
  assert.deepEqual(logTicks(1.2, 2.1), [20, 50, 100]);
  assert.deepEqual(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(linearTicks(0.42, 0.61), [0.45, 0.5, 0.55, 0.6]);
});

test('the chart puts faster candidates right and more accurate ones higher', () => {
  const t = targets(0.85, 300);
  const rows = paretoTable([LSTM, BOW, CNN], t);
  const layout = scatterLayout(rows, t, ['bow']);
  const at = Object.fromEntries(layout.points.map((p) => [p.id, p]));
  assert.ok(at.bow.x > at.cnn.x && at.cnn.x > at.lstm.x);
  assert.ok(at.lstm.y < at.bow.y && at.bow.y < at.cnn.y, 'SVG y grows downwards');
  assert.ok(layout.qpsTargetX! > at.lstm.x && layout.qpsTargetX! < at.cnn.x, '300 QPS between 100 and 500');
  assert.ok(layout.accuracyTargetY! > at.lstm.y && layout.accuracyTargetY! < at.bow.y);
  assert.deepEqual(
    layout.frontier.map((p) => p.id),
    ['lstm', 'bow'],
  );
  const png = drawScatterPng(layout);
  assert.equal(png.readUInt32BE(16), layout.width);
  assert.equal(png.readUInt32BE(20), layout.height);
});

test('sampling keeps the header, splits off dev and covers every label in training', async () => {
  const dir = tempDir('alembic-advise-sample-');
  const train = path.join(dir, 'train.tsv');
  const lines = [
    'text\tlabel',
    ...Array.from({ length: 60 }, (_, i) => `t${i}\t${i % 2 ? 'a' : 'b'}`),
    'lonely\trare',
  ];
  writeFileSync(train, lines.join('\n') + '\n');
  const out = (n: string) => path.join(dir, n);
  // Every seed: "rare" has one line, so it must end up on the training side whatever the shuffle does.
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = await sampleData({
      task: 'text_classification',
      numericFeatures: [],
      train,
      trainOut: out('s-train.tsv'),
      devOut: out('s-dev.tsv'),
      maxTrain: 1000,
      maxDev: 1000,
      seed,
    });
    const got = (f: string) => readFileSync(f, 'utf8').trimEnd().split('\n');
    const [tHead, ...tLines] = got(r.train);
    const [dHead, ...dLines] = got(r.dev);
    assert.equal(tHead, 'text\tlabel');
    assert.equal(dHead, 'text\tlabel');
    assert.equal(r.trainLines, 61);
    assert.equal(r.devCount, dLines.length);
    assert.equal(r.trainCount, tLines.length);
    assert.equal(tLines.length + dLines.length, 61, 'every line once');
    assert.equal(new Set([...tLines, ...dLines]).size, 61);
    assert.ok(tLines.includes('lonely\trare'), `seed ${seed}`);
    assert.ok(Math.abs(dLines.length - 12) <= 1, '20% dev');
  }
  // With a dev file and a small sample, a label the sample missed brings in its first line.
  const dev = out('dev.tsv');
  writeFileSync(dev, 'x\ta\ny\trare\n');
  const r = await sampleData({
    task: 'text_classification',
    numericFeatures: [],
    train,
    dev,
    trainOut: out('s2-train.tsv'),
    devOut: out('s2-dev.tsv'),
    maxTrain: 5,
    maxDev: 10,
    seed: 7,
  });
  const tLines = readFileSync(r.train, 'utf8').trimEnd().split('\n').slice(1);
  assert.equal(r.devFrom, 'file');
  assert.equal(r.devCount, 2);
  assert.ok(tLines.includes('lonely\trare'));
  assert.ok(tLines.some((l) => l.endsWith('\ta')) && tLines.some((l) => l.endsWith('\tb')));
});

test('the text table and the HTML page show the numbers, the flags and the recommendation', () => {
  const t = targets(0.85, 300);
  const rows = paretoTable([LSTM, { ...BOW, name: 'BOW <fast>' }, CNN], t);
  const report: MeasureReport = {
    name: 'demo',
    source: 'spec.json',
    step: { index: 0, name: 'classification', task: 'text_classification' },
    metric: 'accuracy',
    lowerIsBetter: false,
    targets: t,
    machine: { threads: 1, cpus: 2, servingDevice: 'cpu' },
    sample: { train: 800, dev: 200, devFrom: 'split' },
    budgetSeconds: 60,
    elapsedSeconds: 58,
    rows,
    skipped: [{ id: 'transformer-base', reason: 'its checkpoint m/base is not on disk' }],
    recommendation: recommend(rows, t),
    notes: ['a note'],
    files: { html: 'r.html', png: 'r.png', json: 'r.json', chart: { width: 640, height: 400 } },
  };
  const text = renderMeasureText(report);
  const lines = text.split('\n');
  const header = lines.find((l) => l.trimStart().startsWith('candidate'))!;
  assert.match(
    header,
    /candidate +role +accuracy +QPS b1 +QPS b32 +ms b1 .* accuracy ok +QPS ok +latency ok +frontier/,
  );
  const cnnLine = lines.find((l) => l.trimStart().startsWith('cnn'))!;
  // CNN: 0.7, 50 QPS alone, 500 at batch 32, 20 ms; misses the accuracy target; dominated by BOW.
  assert.match(cnnLine, /cnn +serve +0\.7 +50 +500 +20 +1,000 +10 +1\.0 +no +yes +yes +no \(bow\)/);
  assert.match(text, /targets: accuracy ≥ 0\.85 · 300 QPS on 1 machine\(s\) = 300 per machine/);
  assert.match(text, /not measured: transformer-base: its checkpoint m\/base is not on disk/);
  assert.match(text, /RECOMMENDATION\n {2}Distil LSTM into BOW <fast>/);
  const html = renderMeasureHtml(report);
  assert.match(html, /Distil LSTM into BOW &lt;fast&gt;/, 'text from the run is escaped');
  assert.doesNotMatch(html, /BOW <fast>/);
  assert.match(html, /<tr class="frontier" data-id="lstm">/);
  assert.match(html, /<tr class="" data-id="cnn">/);
  assert.match(html, /<path data-series="frontier" d="M[\d.]+,[\d.]+L[\d.]+,[\d.]+"/);
});

/** "dog bites man" vs "man bites dog": same words, different label, so BOW cannot learn it and CNN can. */
function writeWordOrderData(file: string, n: number, seed: number): void {
  const rng = new Rng(seed);
  const fill = ['the', 'a', 'today', 'in', 'park', 'city', 'news', 'said', 'again', 'near'];
  const pairs = [
    ['dog', 'man'],
    ['cat', 'boy'],
    ['bird', 'girl'],
  ];
  const words = () => Array.from({ length: rng.int(4) }, () => fill[rng.int(fill.length)]);
  const lines = Array.from({ length: n }, () => {
    const [animal, person] = pairs[rng.int(pairs.length)];
    const animalFirst = rng.next() < 0.5;
    const core = animalFirst ? `${animal} bites ${person}` : `${person} bites ${animal}`;
    return `${[...words(), core, ...words()].join(' ')}\t${animalFirst ? 'animal_first' : 'person_first'}`;
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

test('a measured run: brief training, timing, a consistent Pareto table and the report files', async () => {
  const dir = tempDir('alembic-advise-measure-');
  const data = path.join(dir, 'train.tsv');
  writeWordOrderData(data, 1000, 11);
  const spec = path.join(dir, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({
      name: 'who-bites',
      input: { texts: 1, language: 'en', avg_length: 8 },
      output: { kind: 'one_of_k', labels: ['animal_first', 'person_first'] },
      data: { labelled: 1000 },
      constraints: { qps: 20, accuracy: { metric: 'accuracy', target: 0.8 } },
    }),
  );
  const out = path.join(dir, 'out');
  const args = ['advise', '--spec', spec, '--data', data, '--measure', '--json'];
  args.push('--budget-minutes', '0.3', '--candidates', 'bow,cnn', '--threads', '1', '--out', out);
  const configs = path.join(dir, 'configs');
  args.push('--write-config', configs);
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'alembic.js'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout).measurement;
  const rows = m.rows as ParetoRow[];
  assert.deepEqual(rows.map((x) => x.id).sort(), ['bow', 'cnn']);
  assert.deepEqual(m.sample, { train: 800, dev: 200, devFrom: 'split' });
  for (const row of rows) {
    assert.ok(row.steps >= 5, `${row.id}: at least the probe's steps`);
    assert.ok(row.qpsBatch1 > 0 && row.qpsBatch32 > 0 && row.latencyMs > 0);
    assert.ok(Math.abs(row.latencyMs - 1000 / row.qpsBatch1) < 1e-6 * row.latencyMs);
    // The flags follow from the numbers and the targets (accuracy ≥ 0.8, 20 QPS on one machine).
    assert.equal(row.meetsAccuracy, row.value >= 0.8);
    assert.equal(row.meetsQps, row.qpsBatch32 >= 20);
    const beaters = rows.filter(
      (o) =>
        o !== row &&
        o.value >= row.value &&
        o.qpsBatch32 >= row.qpsBatch32 &&
        (o.value > row.value || o.qpsBatch32 > row.qpsBatch32),
    );
    assert.equal(
      row.onFrontier,
      beaters.length === 0,
      `${row.id}: a dominated candidate is not on the frontier`,
    );
    assert.deepEqual(
      row.dominatedBy,
      beaters.map((o) => o.id),
    );
  }
  const bow = rows.find((x) => x.id === 'bow')!;
  assert.ok(bow.value < 0.8, `BOW cannot see word order, yet reached ${bow.value}`);
  const rec = m.recommendation;
  const meeting = rows.filter((x) => x.meetsAll);
  if (meeting.length > 0) {
    assert.equal(rec.kind, 'serve');
    const chosen = rows.find((x) => x.id === rec.id)!;
    assert.ok(chosen.meetsAll, 'the recommended candidate meets the constraints');
    assert.ok(
      meeting.every((x) => x.qpsBatch32 <= chosen.qpsBatch32),
      'and is the cheapest that does',
    );
  } else {
    assert.notEqual(rec.kind, 'serve');
  }

  const png = readFileSync(path.join(out, 'advise_report.png'));
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [m.files.chart.width, m.files.chart.height]);
  const html = readFileSync(path.join(out, 'advise_report.html'), 'utf8');
  assert.match(html, /<svg[^>]*width="640" height="400"/);
  assert.match(html, /<circle data-id="bow"/);
  assert.match(html, /<circle data-id="cnn"/);
  assert.match(html, /data-target="qps"/);
  assert.deepEqual(JSON.parse(readFileSync(path.join(out, 'advise_measure.json'), 'utf8')), m);
  // The written served config follows the measured winner, not the unmeasured first choice (an LSTM here).
  const winner = rec.kind === 'distil' ? rec.student : rec.id;
  const written = JSON.parse(r.stdout).configs as string[];
  const served = JSON.parse(readFileSync(written[0], 'utf8')) as { model: { net: string } };
  assert.equal(served.model.net, winner);
});

test('the PNG chart is the labelled SVG rendered: its text (axis name, point names) shows in the pixels', () => {
  const rows = paretoTable([LSTM, BOW, CNN], targets(0.85, 300));
  const layout = scatterLayout(rows, targets(0.85, 300), ['bow'], { width: 640, height: 400 });
  const png = (metric: string) => svgToPng(renderScatterSvg(layout, metric, true));
  const a = png('accuracy');
  assert.deepEqual(a.subarray(0, 8), PNG_SIGNATURE);
  assert.deepEqual([a.readUInt32BE(16), a.readUInt32BE(20)], [640, 400]);
  // Only the y-axis name differs: a picture without text would come out byte for byte the same.
  assert.notDeepEqual(a, png('macro_f1'));
});
