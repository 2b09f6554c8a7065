import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeHtml,
  findBest,
  renderReport,
  smoothCurve,
  type ReportInput,
} from '../../src/train/report-html.js';

/** The coordinate pairs of the path drawn for one series. */
function pathPoints(html: string, series: string): string[] {
  const m = new RegExp(`<path data-series="${series}" d="([^"]*)"`).exec(html);
  assert.ok(m, `no path for series ${series}`);
  return m[1].match(/-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?/g) ?? [];
}

function sampleInput(): ReportInput {
  return {
    title: 'intent <demo> & co',
    config: { task: 'text_classification', model: { net: 'cnn' }, note: '</pre><script>x</script>' },
    trainLoss: Array.from({ length: 12 }, (_, i) => ({ step: (i + 1) * 10, value: 2 / (i + 1) })),
    evalPoints: [
      { step: 40, metrics: { loss: 0.9, accuracy: 0.5, macro_f1: 0.4 } },
      { step: 80, metrics: { loss: 0.7, accuracy: 0.8, macro_f1: 0.75 } },
      { step: 120, metrics: { loss: 0.8, accuracy: 0.7, macro_f1: 0.7 } },
    ],
    confusion: {
      labels: ['<b>&', 'ok'],
      matrix: [
        [5, 1],
        [2, 7],
      ],
    },
    perLabel: [
      { label: '<b>&', precision: 0.714286, recall: 0.833333, f1: 0.769231, support: 6 },
      { label: 'ok', precision: 0.875, recall: 0.777778, f1: 0.823529, support: 9 },
    ],
    notes: ['dev set is small: 15 examples'],
  };
}

test('the page draws every series with the right number of points', () => {
  const html = renderReport(sampleInput());
  assert.equal(pathPoints(html, 'train-loss-raw').length, 12);
  assert.equal(pathPoints(html, 'train-loss-smoothed').length, 12);
  assert.equal(pathPoints(html, 'dev-loss').length, 3);
  // Both dev rates other than loss (accuracy and macro_f1) on one metric chart: two charts in all.
  assert.equal(pathPoints(html, 'dev-metric-0').length, 3);
  assert.equal(pathPoints(html, 'dev-metric-1').length, 3);
  assert.ok(!html.includes('dev-metric-2'));
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  // Best step by the first non-loss metric (accuracy 0.8 at step 80), marked on every chart.
  assert.ok(html.includes('best dev accuracy = 0.8 at step 80'));
  assert.equal((html.match(/best @ 80/g) ?? []).length, 2);
  assert.ok(html.includes('over-fitting') && html.includes('under-fitting'));
});

test('all text is escaped and nothing is loaded from outside', () => {
  const html = renderReport(sampleInput());
  assert.ok(html.includes('&lt;b&gt;&amp;'));
  assert.ok(!html.includes('<b>&'));
  assert.ok(html.includes('<title>intent &lt;demo&gt; &amp; co</title>'));
  assert.ok(html.includes('&lt;/pre&gt;&lt;script&gt;'));
  assert.ok(!/<script/i.test(html));
  assert.ok(!/http/i.test(html));
  assert.ok(!/\b(src|href)=/i.test(html));
  assert.ok(html.startsWith('<!doctype html>'));
  // Confusion cells: 5 of 6 in the first row is the darkest share there.
  assert.ok(html.includes('rgba(29,78,216,0.833)'));
  assert.ok(html.includes('<td class="num">0.7143</td>'));
  assert.ok(html.includes('<li>dev set is small: 15 examples</li>'));
});

test('gaps, empty runs and minimal input still render', () => {
  const input = sampleInput();
  input.trainLoss[5].value = Number.NaN;
  const html = renderReport(input);
  assert.equal(pathPoints(html, 'train-loss-raw').length, 11);
  const d = /data-series="train-loss-raw" d="([^"]*)"/.exec(html)?.[1] ?? '';
  assert.equal((d.match(/M/g) ?? []).length, 2); // the path restarts after the gap
  const bare = renderReport({ title: 't', config: undefined, trainLoss: [], evalPoints: [] });
  assert.ok(bare.includes('No loss values were logged.'));
  assert.ok(!bare.includes('<svg'));
  const one = renderReport({ title: 't', config: {}, trainLoss: [{ step: 1, value: 3 }], evalPoints: [] });
  assert.equal(pathPoints(one, 'train-loss-raw').length, 1);
});

test('best step follows the metric direction', () => {
  const points = [
    { step: 1, metrics: { loss: 0.5, perplexity: 9 } },
    { step: 2, metrics: { loss: 0.4, perplexity: 7 } },
    { step: 3, metrics: { loss: 0.6, perplexity: 8 } },
  ];
  assert.deepEqual(findBest(points), { metric: 'perplexity', step: 2, value: 7 });
  assert.deepEqual(findBest([{ step: 5, metrics: { loss: 1 } }]), { metric: 'loss', step: 5, value: 1 });
  assert.deepEqual(findBest(points, 'loss'), { metric: 'loss', step: 2, value: 0.4 });
  assert.equal(findBest([]), undefined);
});

test('smoothing is a debiased moving average and escaping covers quotes', () => {
  assert.deepEqual(smoothCurve([1, 1, 1]), [1, 1, 1]);
  // n = 10 → weight 1 − 5/10 = 0.5: ema 0.5 / (1 − 0.5) = 1, then 0.25 / (1 − 0.25) = 1/3
  const s = smoothCurve([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(s[0], 1);
  assert.ok(Math.abs(s[1] - 1 / 3) < 1e-12);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('the confusion matrix and per-label table say where they come from', () => {
  const html = renderReport({ ...sampleInput(), evaluatedOn: 'dev set, best model (step 80)' });
  const said = html.match(/On the dev set, best model \(step 80\)\./g) ?? [];
  assert.equal(said.length, 2, 'once above the confusion matrix, once above the per-label table');
  assert.ok(html.indexOf('On the dev set') > html.indexOf('<h2>Confusion matrix</h2>'));
});

/** The svg of the chart whose aria-label is `title`. */
function chartOf(html: string, title: string): string {
  return new RegExp(`<svg [^>]*aria-label="${title}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
}

/** The y pixel of each point of a series, in step order. */
function ys(html: string, series: string): number[] {
  return pathPoints(html, series).map((xy) => Number(xy.split(',')[1]));
}

test('rates share one 0–1 chart, correlations one −1–1 chart, unbounded metrics their own axes', () => {
  const evalPoints = [
    { step: 40, metrics: { loss: 0.9, accuracy: 0.5, macro_f1: 0.4, perplexity: 40, spearman: -0.2 } },
    { step: 80, metrics: { loss: 0.7, accuracy: 0.8, macro_f1: 0.75, perplexity: 12, spearman: 0.5 } },
    { step: 120, metrics: { loss: 0.8, accuracy: 0.7, macro_f1: 0.7, perplexity: 15, spearman: 0.6 } },
  ];
  const html = renderReport({ ...sampleInput(), evalPoints });
  // loss, rates, correlations, perplexity.
  assert.equal((html.match(/<svg /g) ?? []).length, 4);
  const rates = chartOf(html, 'rates');
  for (const id of ['dev-metric-0', 'dev-metric-1']) assert.ok(rates.includes(`data-series="${id}"`), id);
  assert.match(rates, />0<\/text>/);
  assert.match(rates, />1<\/text>/);
  // One axis: accuracy and macro_f1 are both 0.7 at step 120, so they are drawn at the same height;
  // the 0–1 axis puts 0.5 (accuracy at step 40) half-way between the 0.7 and a value 0.2 lower.
  const [acc40, , acc120] = ys(html, 'dev-metric-0');
  const f1 = ys(html, 'dev-metric-1');
  assert.equal(acc120, f1[2]);
  // 0.4 → 0.7 is a 0.3 rise for macro_f1, 0.5 → 0.7 a 0.2 rise for accuracy: pixel rises in proportion.
  assert.ok(Math.abs((f1[0] - f1[2]) / (acc40 - acc120) - 1.5) < 0.01);
  const corr = chartOf(html, 'correlations');
  assert.ok(corr.includes('data-series="dev-metric-3"') && corr.includes('>-1</text>'));
  const ppl = chartOf(html, 'perplexity');
  assert.ok(ppl.includes('data-series="dev-metric-2"') && !ppl.includes('dev-metric-0'));
  assert.match(html, /perplexity \(its own axis\)/);
  assert.ok(html.includes('perplexity ↓') && html.includes('accuracy ↑'));
});

test('a rate outside 0–1 is drawn on its own axis; many series wrap the legend', () => {
  const names = ['accuracy', 'macro_f1', 'micro_f1', 'auc', 'macro_precision', 'macro_recall'];
  const metrics = (v: number) => Object.fromEntries(names.map((n, i) => [n, v - i * 0.05]));
  const html = renderReport({
    title: 't',
    config: {},
    trainLoss: [],
    evalPoints: [
      { step: 1, metrics: { ...metrics(0.6), bleu: 23.5 } },
      { step: 2, metrics: { ...metrics(0.8), bleu: 31 } },
    ],
  });
  const rates = chartOf(html, 'rates');
  assert.equal((rates.match(/data-series=/g) ?? []).length, names.length);
  assert.ok(chartOf(html, 'bleu').includes('data-series="dev-metric-6"'), 'BLEU on 0–100 gets its own axis');
  // Six entries at four a row: the legend takes two rows and the plot moves down by one.
  const legendYs = new Set([...rates.matchAll(/class="legend" x="[\d.]+" y="(\d+)"/g)].map((m) => m[1]));
  assert.deepEqual([...legendYs], ['14', '30']);
  assert.match(rates, /viewBox="0 0 720 296"/);
});
