/**
 * Interoperability with the checkpoints users start from, measured against Hugging Face transformers in the
 * same run: random-initialised BERT and ERNIE (use_task_id), every weight re-randomised, saved by
 * bench/interop_make.py as safetensors, pytorch_model.bin (with transposed views), half-precision .bin,
 * sharded safetensors / .bin and PaddlePaddle's model_state.pdparams. alembic loads each directory through
 * `model.pretrained_dir`'s loader and the bench prints max |Δ| of the last hidden state against transformers'
 * eager forward (target ≤ 1e-5). Then tokeniser agreement with BertTokenizerFast (bench/interop_tokenize.py)
 * on ≥ 5,000 mixed English/Chinese lines from the bundled corpora plus hard cases, uncased and cased, by ids.
 * Skips with a message when Python or its packages are missing (ALEMBIC_PYTHON picks the interpreter).
 *
 *   npm run bench:interop [-- --lines 6000]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadBrown } from '../src/data/corpora/brown.js';
import { readPoems } from '../src/data/corpora/chinese-poetry.js';
import { loadSpamAssassin } from '../src/data/corpora/spam-assassin.js';
import { WordPieceTokenizer } from '../src/data/tokenizers/wordpiece.js';
import { Vocab } from '../src/data/vocab.js';
import { fromTyped } from '../src/engine/create.js';
import { setNumThreads } from '../src/engine/runtime.js';
import { noGrad } from '../src/engine/scope.js';
import { transformerOptions } from '../src/nets/build.js';
import { loadPretrained } from '../src/nets/pretrained.js';
import { TransformerEncoder } from '../src/nets/transformer.js';
import type { ModelConfig } from '../src/config/run-config.js';

const { values: args } = parseArgs({ options: { lines: { type: 'string', default: '6000' } } });
const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.ALEMBIC_PYTHON ?? 'python3';

function pythonReady(): boolean {
  try {
    execFileSync(python, ['-c', 'import torch, transformers, safetensors, tokenizers, numpy'], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

function runPython(script: string, ...rest: string[]): string {
  return execFileSync(python, [path.join(here, script), ...rest], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 28,
  });
}

interface Reference {
  ids: number[][];
  mask: number[][];
  types: number[][];
  hidden: number[];
  shape: number[];
}

function int64(rows: number[][]) {
  return fromTyped(
    BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
    [rows.length, rows[0].length],
    'int64',
  );
}

/** max |Δ| of alembic's last hidden state against transformers' for one checkpoint directory. */
function hiddenStateDelta(dir: string): { delta: number; tensors: number } {
  const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
  const model = { net: 'transformer', pretrained_dir: dir, pooling: 'cls' } as ModelConfig;
  const encoder = new TransformerEncoder(transformerOptions(model, 0, 0));
  const { loaded } = loadPretrained(encoder, dir, { log: () => {} });
  encoder.eval();
  const ours = noGrad(() => {
    const mask = fromTyped(Uint8Array.from(ref.mask.flat()), [ref.mask.length, ref.mask[0].length], 'bool');
    const lengths = fromTyped(
      BigInt64Array.from(ref.mask, (r) => BigInt(r.reduce((a, b) => a + b, 0))),
      [ref.mask.length],
      'int64',
    );
    const out = encoder.encode({ ids: int64(ref.ids), mask, lengths, typeIds: int64(ref.types) });
    return out.sequence.toFloat32Array();
  });
  encoder.dispose();
  let delta = 0;
  ref.hidden.forEach((v, i) => (delta = Math.max(delta, Math.abs(v - ours[i]))));
  return { delta, tensors: loaded };
}

const HARD_CASES = [
  '豈 \uF900\uF901 \u{2F800} compatibility ideographs',
  '[MASK] [SEP]a[CLS] [mask] [PAD][UNK]',
  'Café naïve résumé Ångström İstanbul ß ﬁne',
  'zero\u200bwidth soft\u00adhyphen bidi\u200emark',
  'emoji 😀👍🏽 and ＦＵＬＬ－ＷＩＤＴＨ １２３ ，。！',
  'tabs\tand\u3000ideographic spaces\u00a0nbsp',
  'control \u0000 \u0007 \ufffd replacement',
  'e\u0301 combining a\u0308 marks',
  '한국어 텍스트 日本語のひらがなとカタカナ ภาษาไทย العربية',
  'supercalifragilisticexpialidocious'.repeat(4),
  "don't can't $100.50 3.14159 user@example.com http://x.org/a?b=c",
  '“smart quotes” ‘single’ — dashes … ellipsis',
  '中文English混合mixed文本123数字',
];

function tokeniserLines(wanted: number): string[] {
  const third = Math.floor(wanted / 3);
  const poems = readPoems('tang')
    .flatMap((p) => p.paragraphs)
    .slice(0, third);
  const brown = loadBrown()
    .slice(0, third)
    .map((s) => s.tokens.join(' '));
  const emails = loadSpamAssassin()
    .flatMap((e) => e.text.split('\n'))
    .filter((l) => l.trim().length > 0)
    .slice(0, wanted - 2 * third);
  const mixed = poems.slice(0, 500).map((p, i) => `${p} ${brown[i] ?? ''}`);
  return [...poems, ...brown, ...emails, ...mixed, ...HARD_CASES];
}

function cp(s: string): string {
  return [...s]
    .map((c) =>
      c.codePointAt(0)! > 0x7e || c.codePointAt(0)! < 0x20
        ? `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`
        : c,
    )
    .join('');
}

function tokeniserAgreement(work: string): void {
  const lines = tokeniserLines(Number(args.lines));
  const linesFile = path.join(work, 'lines.json');
  writeFileSync(linesFile, JSON.stringify(lines));
  runPython('interop_tokenize.py', linesFile, work);
  const hf = JSON.parse(readFileSync(path.join(work, 'hf-ids.json'), 'utf8')) as Record<
    string,
    { vocab: string; ids: number[][] }
  >;
  console.log(
    `\ntokeniser agreement with BertTokenizerFast (${lines.length} lines, ${HARD_CASES.length} of them hard cases), by token ids:`,
  );
  for (const [name, { vocab: file, ids }] of Object.entries(hf)) {
    const vocab = Vocab.load(file);
    const tok = new WordPieceTokenizer(vocab, { lowercase: name === 'uncased' });
    const mismatches: number[] = [];
    lines.forEach((line, i) => {
      const ours = tok.tokenize(line).map((t) => vocab.id(t));
      if (ours.join(' ') !== ids[i].join(' ')) mismatches.push(i);
    });
    const agree = lines.length - mismatches.length;
    console.log(
      `  ${name.padEnd(8)} ${agree}/${lines.length} lines identical (${((100 * agree) / lines.length).toFixed(2)}%)`,
    );
    for (const i of mismatches.slice(0, 8)) {
      const ours = tok.tokenize(lines[i]);
      const theirs = ids[i].map((id) => vocab.token(id));
      let k = 0;
      while (k < ours.length && ours[k] === theirs[k]) k++;
      console.log(
        `    line ${i}: first difference at token ${k}: alembic ${cp(ours.slice(k, k + 3).join(' '))} | HF ${cp(theirs.slice(k, k + 3).join(' '))}`,
      );
    }
  }
}

function main(): void {
  if (!pythonReady()) {
    console.log(
      `bench:interop skipped: ${python} lacks torch, transformers, safetensors, tokenizers or numpy (set ALEMBIC_PYTHON to a venv's python)`,
    );
    return;
  }
  setNumThreads(1);
  const work = mkdtempSync(path.join(os.tmpdir(), 'alembic-bench-interop-'));
  const ckpts = path.join(work, 'checkpoints');
  mkdirSync(ckpts);
  const dirs = JSON.parse(runPython('interop_make.py', ckpts).trim().split('\n').at(-1)!) as string[];
  console.log('last hidden state, alembic vs transformers eager forward (max |Δ|, target ≤ 1e-5):');
  console.log(`  ${'checkpoint'.padEnd(26)} ${'tensors'.padStart(7)}  max |Δ|`);
  for (const dir of dirs) {
    const { delta, tensors } = hiddenStateDelta(dir);
    console.log(
      `  ${path.basename(dir).padEnd(26)} ${String(tensors).padStart(7)}  ${delta.toExponential(2)}${delta <= 1e-5 ? '' : '  ABOVE TARGET'}`,
    );
  }
  tokeniserAgreement(work);
}

main();
