import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  escapeHtml,
  findBest,
  renderReport,
  smoothCurve,
  type ReportInput,
} from '../src/train/report-html.js';

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
  // One chart per dev metric other than loss: accuracy and macro_f1.
  assert.equal(pathPoints(html, 'dev-metric-0').length, 3);
  assert.equal(pathPoints(html, 'dev-metric-1').length, 3);
  assert.ok(!html.includes('dev-metric-2'));
  assert.equal((html.match(/<svg /g) ?? []).length, 3);
  // Best step by the first non-loss metric (accuracy 0.8 at step 80), marked on every chart.
  assert.ok(html.includes('best dev accuracy = 0.8 at step 80'));
  assert.equal((html.match(/best @ 80/g) ?? []).length, 3);
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

test('the confusion matrix and per-label table say where they come from; rate charts share a 0–1 axis', () => {
  const html = renderReport({ ...sampleInput(), evaluatedOn: 'dev set, best model (step 80)' });
  const said = html.match(/On the dev set, best model \(step 80\)\./g) ?? [];
  assert.equal(said.length, 2, 'once above the confusion matrix, once above the per-label table');
  assert.ok(html.indexOf('On the dev set') > html.indexOf('<h2>Confusion matrix</h2>'));
  // accuracy (0.5–0.8) and macro_f1 (0.4–0.75) are both drawn on 0–1: each chart has ticks 0 and 1.
  for (const name of ['accuracy', 'macro_f1']) {
    const chart = new RegExp(`aria-label="${name}"[\\s\\S]*?</svg>`).exec(html)?.[0] ?? '';
    assert.match(chart, />0<\/text>/, `${name}: tick 0`);
    assert.match(chart, />1<\/text>/, `${name}: tick 1`);
  }
  assert.match(html, /accuracy <span class="muted">\(higher is better, axis 0–1\)/);
});
