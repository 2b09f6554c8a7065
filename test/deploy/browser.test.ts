import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { Vocab } from '../../src/data/vocab.js';
import { exportModelDir } from '../../src/deploy/export/export-dir.js';
import { openPredictor } from '../../src/deploy/open-predictor.js';
import { PredictionServer } from '../../src/deploy/serve/server.js';
import { BrowserCodec, parseVocab, type BrowserModelSpec } from '../../src/deploy/web/browser-codec.js';
import { demoScript } from '../../src/deploy/web/bundle.js';
import { describeForBrowser, registerDemoRoutes } from '../../src/deploy/web/demo-routes.js';
import { TextCodec } from '../../src/tasks/text-codec.js';
import { parseConfig } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { sentimentExample, tempDir, writeSentimentSplits } from '../helpers/tiny-data.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/chromium.js';

const TEXTS = [
  '这个酒店很棒，服务也好',
  '房间太差了，很失望',
  'Great NLP 2024 房间 [UNK] 很差!!',
  '',
  '早餐 位置 价格 环境',
  'Room rooms ROOM',
];

function spec(over: Partial<BrowserModelSpec>): BrowserModelSpec {
  return {
    name: 'm',
    task: 'text_classification',
    net: 'bow',
    tokenizer: { type: 'char', lowercase: true },
    maxLen: 12,
    specials: false,
    labels: ['a', 'b'],
    threshold: 0.5,
    inputs: ['input_ids', 'attention_mask'],
    numericFeatures: [],
    int8: false,
    ...over,
  };
}

describe('browser codec', () => {
  const tokens = [
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    '酒',
    '店',
    '很',
    '棒',
    '差',
    'nlp',
    'great',
    '2024',
    '!',
    '，',
    'ro',
    '##om',
  ];
  const vocab = new Vocab(tokens);

  it('reads vocab.txt text as Vocab.load reads the file', () => {
    const v = parseVocab('\uFEFF[PAD]\r\n[UNK]\r\n好\n');
    assert.deepEqual(v.tokens, ['[PAD]', '[UNK]', '好']);
  });

  for (const type of ['char', 'whitespace', 'wordpiece'] as const) {
    for (const specials of [false, true]) {
      it(`encodes like the server's TextCodec (${type}, ${specials ? 'with' : 'without'} [CLS]/[SEP])`, () => {
        const server = new TextCodec({ tokenizer: { type, lowercase: true }, maxLen: 12, specials }, vocab);
        const browser = new BrowserCodec(spec({ tokenizer: { type, lowercase: true }, specials }), vocab);
        // The last text is long enough for both codecs to cut it before tokenising (text-ids.ts).
        const long = '很 棒 [UNK]\n酒店 hotel\t'.repeat(100);
        for (const t of [...TEXTS, '酒 店 很 棒 很 棒 很 棒 很 棒 很 棒 很 棒 很', long]) {
          assert.deepEqual(browser.encode(t), server.encode(t).ids, t);
          assert.deepEqual(browser.encodePair(t, '很差'), server.encodePair(t, '很差'), t);
        }
      });
    }
  }

  it('builds the feeds the exported graph takes, by its input names', () => {
    const c = new BrowserCodec(
      spec({ inputs: ['input_ids', 'attention_mask', 'input_ids_b', 'attention_mask_b'] }),
      vocab,
    );
    const f = c.feeds('酒店', '很差');
    // 酒 店 → 5 6; 很 差 → 7 9 (hand-read from the token list above).
    assert.deepEqual([...(f.input_ids.data as BigInt64Array)], [5n, 6n]);
    assert.deepEqual([...(f.input_ids_b.data as BigInt64Array)], [7n, 9n]);
    assert.deepEqual([...(f.attention_mask.data as BigInt64Array)], [1n, 1n]);
    assert.deepEqual(f.input_ids.dims, [1, 2]);
    const t = new BrowserCodec(
      spec({
        task: 'text_pair_classification',
        specials: true,
        inputs: ['input_ids', 'attention_mask', 'token_type_ids'],
      }),
      vocab,
    );
    assert.equal(t.isPair, true);
    const g = t.feeds('棒', '差');
    assert.deepEqual([...(g.input_ids.data as BigInt64Array)], [2n, 8n, 3n, 9n, 3n]); // [CLS] 棒 [SEP] 差 [SEP]
    assert.deepEqual([...(g.token_type_ids.data as BigInt64Array)], [0n, 0n, 0n, 1n, 1n]);
    // One text through a Hugging Face-layout graph (token_type_ids declared): zeros, and no second text.
    const hf = new BrowserCodec(
      spec({ specials: true, inputs: ['input_ids', 'attention_mask', 'token_type_ids'] }),
      vocab,
    );
    assert.equal(hf.isPair, false);
    const h = hf.feeds('棒', 'ignored');
    assert.deepEqual([...(h.input_ids.data as BigInt64Array)], [2n, 8n, 3n]); // [CLS] 棒 [SEP]
    assert.deepEqual([...(h.token_type_ids.data as BigInt64Array)], [0n, 0n, 0n]);
  });

  it('decides labels as the server does (argmax, or the threshold for multi-label)', () => {
    assert.deepEqual(new BrowserCodec(spec({}), vocab).decide([0.3, 0.7]), ['b']);
    const multi = new BrowserCodec(
      spec({ task: 'multi_label_classification', labels: ['x', 'y', 'z'], threshold: 0.4 }),
      vocab,
    );
    assert.deepEqual(multi.decide([0.4, 0.39, 0.9]), ['x', 'z']);
  });

  it('refuses jieba, which needs Node', () => {
    assert.throws(
      () => new BrowserCodec(spec({ tokenizer: { type: 'jieba', lowercase: true } }), vocab),
      /does not run in a browser/,
    );
  });

  it('bundles the page script without Node built-ins', async () => {
    const js = await demoScript();
    assert.ok(js.length > 1000);
    assert.doesNotMatch(js, /require\(["']node:/);
    assert.match(js, /ort\.wasm\.min\.mjs/);
  });
});

/** Trains a tiny model of `net` on `kind` data and exports it; returns the exported directory. */
async function exportedModel(
  root: string,
  name: string,
  net: string,
  pair: boolean,
  tokenizer: string,
): Promise<string> {
  const dir = path.join(root, name);
  const rng = new Rng(name.length);
  let files: { train: string; dev: string };
  if (pair) {
    const line = () => {
      const a = sentimentExample(rng);
      const b = sentimentExample(rng);
      return `${a.text}\t${b.text}\t${a.label === b.label ? 'same' : 'different'}`;
    };
    files = { train: path.join(root, `${name}-train.tsv`), dev: path.join(root, `${name}-dev.tsv`) };
    writeFileSync(files.train, Array.from({ length: 200 }, line).join('\n') + '\n');
    writeFileSync(files.dev, Array.from({ length: 20 }, line).join('\n') + '\n');
  } else {
    files = writeSentimentSplits(root, { train: 200, dev: 20, test: 1 });
  }
  const config = parseConfig(
    {
      task: pair ? 'text_pair_classification' : 'text_classification',
      dataset: { train: files.train, dev: files.dev, tokenizer: { type: tokenizer }, max_len: 24 },
      model: { net, embedding_dim: 16, hidden_size: 16, num_layers: 1, num_heads: 2, ffn_size: 32 },
      trainer: {
        max_steps: 40,
        batch_size: 16,
        learning_rate: 0.01,
        eval_step: 40,
        save_model_step: 40,
        threads: 1,
        output_dir: path.join(dir, 'run'),
      },
    },
    path.join(dir, 'config.json'),
  );
  await train(config, { quiet: true, log: () => {} });
  await exportModelDir(path.join(dir, 'run', 'best'), path.join(dir, 'export'));
  return path.join(dir, 'export');
}

describe('demo page', () => {
  let root: string;
  let sentiment: string;
  let pairs: string;

  before(async () => {
    root = tempDir('alembic-browser-');
    sentiment = await exportedModel(root, 'sentiment', 'bow', false, 'char');
    pairs = await exportedModel(root, 'pairs', 'transformer', true, 'char');
  });

  it('lists a model with a Node-only tokenizer as unavailable, with the reason', () => {
    const jieba = path.join(root, 'jieba-export');
    cpSync(sentiment, jieba, { recursive: true });
    const file = path.join(jieba, 'alembic-model.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.config.dataset.tokenizer.type = 'jieba';
    writeFileSync(file, JSON.stringify(m));
    const e = describeForBrowser('j', jieba);
    assert.equal(e.spec, undefined);
    assert.match(e.unavailable!, /jieba tokenizer does not run in a browser/);
    const ok = describeForBrowser('s', sentiment);
    assert.deepEqual(ok.spec?.inputs, ['input_ids', 'attention_mask']);
    assert.equal(ok.spec?.maxLen, 24);
  });

  it(
    'classifies typed text in headless Chromium exactly as the server does',
    { timeout: 180_000 },
    async (t) => {
      if (!existsSync(CHROMIUM)) {
        const why = `${CHROMIUM} is absent (install it with apt-get install -y chromium); the in-browser test is skipped`;
        process.stderr.write(`deploy-browser: ${why}\n`);
        t.skip(why);
        return;
      }
      const { chromium } = await import('playwright-core');
      const models = [
        { name: 'sentiment', dir: sentiment },
        { name: 'pairs', dir: pairs },
      ];
      const server = await PredictionServer.create({
        models: await Promise.all(
          models.map(async (m) => ({ name: m.name, predictor: await openPredictor(m.dir) })),
        ),
        plugins: [(app) => registerDemoRoutes(app, models)],
      });
      const base = await server.listen(0, '127.0.0.1');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
      const pageErrors: string[] = [];
      try {
        const page = await browser.newPage();
        page.on('pageerror', (e) => pageErrors.push(String(e)));
        await page.goto(`${base}/demo/`);
        const ready = async () => {
          await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', {
            timeout: 60_000,
          });
          assert.equal(
            await page.getAttribute('#status', 'data-state'),
            'ready',
            (await page.textContent('#status')) ?? '',
          );
        };
        await ready();

        const classifyInPage = async (text: string, textB?: string) => {
          await page.fill('#text', text);
          if (textB !== undefined) await page.fill('#text-b', textB);
          await page.click('#classify');
          await page.waitForFunction(
            (want) => {
              const r = document.getElementById('result')!;
              return !r.hidden && r.dataset.text === want;
            },
            text,
            { timeout: 30_000 },
          );
          return {
            label: (await page.textContent('#label'))!,
            probabilities: JSON.parse(
              (await page.getAttribute('#result', 'data-probabilities'))!,
            ) as number[],
          };
        };
        const serverSide = async (route: string, body: unknown) => {
          const res = await fetch(base + route, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          assert.equal(res.status, 200);
          const p = (
            (await res.json()) as { predictions: { label: string; probabilities: Record<string, number> }[] }
          ).predictions[0];
          return { label: p.label, probabilities: Object.values(p.probabilities) };
        };
        const same = (
          inPage: { label: string; probabilities: number[] },
          onServer: typeof inPage,
          what: string,
        ) => {
          assert.equal(inPage.label, onServer.label, what);
          inPage.probabilities.forEach((p, i) =>
            assert.ok(Math.abs(p - onServer.probabilities[i]) < 1e-5, `${what}: ${p}`),
          );
        };

        for (const text of TEXTS)
          same(await classifyInPage(text), await serverSide('/predict', { texts: [text] }), text);

        await page.selectOption('#model', 'pairs');
        await page.waitForSelector('#text-b', { state: 'visible' });
        await ready();
        const pairCases: [string, string][] = [
          ['房间很棒', '服务很差'],
          ['我很喜欢', '早餐很好'],
        ];
        for (const [a, b] of pairCases) {
          same(
            await classifyInPage(a, b),
            await serverSide('/models/pairs/predict', { pairs: [[a, b]] }),
            `${a} | ${b}`,
          );
        }
        assert.deepEqual(pageErrors, []);
      } finally {
        await browser.close();
        await server.close();
      }
    },
  );
});
