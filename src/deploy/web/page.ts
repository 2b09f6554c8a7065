/**
 * The demo page's script (bundled for the browser by bundle.ts): loads an exported model into
 * onnxruntime-web's wasm backend, tokenises what the user types with the model's own vocabulary, and
 * shows the predicted label and probabilities. Nothing typed leaves the browser.
 */
import type * as Ort from 'onnxruntime-web';
import { BROWSER_TOKENIZERS, BrowserCodec, parseVocab, type BrowserModelSpec } from './browser-codec.js';

interface DemoModelEntry {
  name: string;
  /** Why the model cannot run here (not exported, jieba tokenizer…); absent when it can. */
  unavailable?: string;
  spec?: BrowserModelSpec;
}

interface Loaded {
  codec: BrowserCodec;
  session: Ort.InferenceSession;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  model: $<HTMLSelectElement>('model'),
  about: $<HTMLParagraphElement>('about'),
  text: $<HTMLTextAreaElement>('text'),
  textB: $<HTMLTextAreaElement>('text-b'),
  classify: $<HTMLButtonElement>('classify'),
  status: $<HTMLParagraphElement>('status'),
  result: $<HTMLDivElement>('result'),
  label: $<HTMLElement>('label'),
  probs: $<HTMLTableElement>('probs'),
};

// A variable URL keeps the bundler from trying to inline onnxruntime-web: the server serves it as is.
const ORT_MODULE = new URL('ort/ort.wasm.min.mjs', location.href).href;
let ort: typeof Ort;
let current: Loaded | undefined;
let entries: DemoModelEntry[] = [];

function setStatus(text: string, state: 'loading' | 'ready' | 'error'): void {
  ui.status.textContent = text;
  ui.status.dataset.state = state;
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

async function loadModel(entry: DemoModelEntry): Promise<void> {
  current = undefined;
  ui.classify.disabled = true;
  ui.result.hidden = true;
  if (!entry.spec) {
    setStatus(`${entry.name} cannot run in the browser: ${entry.unavailable}`, 'error');
    return;
  }
  const spec = entry.spec;
  setStatus(`loading ${spec.name}…`, 'loading');
  const base = `models/${encodeURIComponent(spec.name)}/`;
  const [vocabText, modelBytes] = await Promise.all([
    fetchOk(base + 'vocab.txt').then((r) => r.text()),
    fetchOk(base + 'model.onnx').then((r) => r.arrayBuffer()),
  ]);
  const codec = new BrowserCodec(spec, parseVocab(vocabText, `${spec.name}/vocab.txt`));
  const session = await ort.InferenceSession.create(new Uint8Array(modelBytes), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  ui.textB.hidden = !codec.isPair;
  ui.about.textContent =
    `${spec.task}, ${spec.net} (${spec.int8 ? 'int8' : 'fp32'}), ${spec.tokenizer.type} tokenizer, ` +
    `max ${spec.maxLen} tokens, labels: ${spec.labels.join(', ')}`;
  current = { codec, session };
  ui.classify.disabled = false;
  setStatus('ready', 'ready');
}

async function classify(): Promise<void> {
  const m = current;
  if (!m) return;
  const text = ui.text.value;
  const textB = ui.textB.hidden ? undefined : ui.textB.value;
  const started = performance.now();
  const feeds: Record<string, Ort.Tensor> = {};
  for (const [name, v] of Object.entries(m.codec.feeds(text, textB))) {
    feeds[name] = new ort.Tensor(v.data instanceof Float32Array ? 'float32' : 'int64', v.data, [...v.dims]);
  }
  const out = await m.session.run(feeds, ['probabilities']);
  const probabilities = Array.from(out.probabilities.data as Float32Array);
  const labels = m.codec.decide(probabilities);
  const ms = performance.now() - started;
  ui.label.textContent = labels.join(', ') || '(no label)';
  ui.probs.replaceChildren(
    ...m.codec.spec.labels.map((name, i) => {
      const row = document.createElement('tr');
      const p = probabilities[i];
      row.innerHTML = '<td></td><td></td><td><meter min="0" max="1"></meter></td>';
      row.cells[0].textContent = name;
      row.cells[1].textContent = p.toFixed(4);
      (row.cells[2].firstChild as HTMLMeterElement).value = p;
      return row;
    }),
  );
  // What the result is for, so a test (or a curious user) can tell a stale answer from a fresh one.
  ui.result.dataset.text = text;
  ui.result.dataset.probabilities = JSON.stringify(probabilities);
  ui.result.title = `${ms.toFixed(1)} ms in the browser`;
  ui.result.hidden = false;
}

async function main(): Promise<void> {
  setStatus('loading onnxruntime-web…', 'loading');
  ort = (await import(/* webpackIgnore: true */ ORT_MODULE)) as typeof Ort;
  ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
  // One thread: threads need cross-origin isolation, and one small model does not need them.
  ort.env.wasm.numThreads = 1;
  entries = ((await (await fetchOk('models.json')).json()) as { models: DemoModelEntry[] }).models;
  ui.model.replaceChildren(
    ...entries.map((e) => {
      const o = document.createElement('option');
      o.value = e.name;
      o.textContent = e.spec ? e.name : `${e.name} (not in the browser)`;
      return o;
    }),
  );
  if (entries.length === 0) {
    setStatus(
      `no models; the browser runs exported models with a ${BROWSER_TOKENIZERS.join('/')} tokenizer`,
      'error',
    );
    return;
  }
  const firstRunnable = entries.find((e) => e.spec) ?? entries[0];
  ui.model.value = firstRunnable.name;
  ui.model.addEventListener('change', () => {
    void loadModel(entries.find((e) => e.name === ui.model.value)!).catch(fail);
  });
  ui.classify.addEventListener('click', () => void classify().catch(fail));
  ui.text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) void classify().catch(fail);
  });
  await loadModel(firstRunnable);
}

function fail(e: unknown): void {
  setStatus(`error: ${(e as Error)?.message ?? String(e)}`, 'error');
}

main().catch(fail);
