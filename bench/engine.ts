/**
 * Engine benchmark: trains a 4-layer, hidden-256, 4-head, FFN-1024 BERT-style classifier (vocab 21,128,
 * batch 32, seq 64, AdamW) for 20 steps through alembic and — when /usr/bin/python3 has torch — the
 * identical model in PyTorch in the same run, with 1 and 2 threads. Prints ms/step and the ratio, plus
 * matmul GFLOPS and per-op call overhead.
 *
 *   npm run bench:engine [-- --steps 20]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { full, manualSeed, randint, randn } from '../src/engine/create.js';
import * as F from '../src/engine/functional.js';
import { Linear } from '../src/engine/nn/linear.js';
import { AdamW } from '../src/engine/optim/adamw.js';
import { zeroGrad } from '../src/engine/optim/clip.js';
import { setNumThreads, torchConfig } from '../src/engine/runtime.js';
import { tidy } from '../src/engine/scope.js';
import { native } from '../src/engine/native.js';
import { TransformerEncoder } from '../src/nets/transformer.js';

const STEPS = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 20;
const [V, H, L, NH, FFN, B, T] = [21128, 256, 4, 4, 1024, 32, 64];
const here = path.dirname(fileURLToPath(import.meta.url));

function alembicMsPerStep(): number {
  manualSeed(0);
  const encoder = new TransformerEncoder({
    vocabSize: V,
    hiddenSize: H,
    numLayers: L,
    numHeads: NH,
    ffnSize: FFN,
  });
  const head = new Linear(H, 2);
  const params = [...encoder.parameters(), ...head.parameters()];
  const opt = new AdamW(params, { lr: 1e-4, weightDecay: 0.01 });
  const ids = randint(0, V, [B, T]).keep();
  const mask = full([B, T], 1, 'bool').keep();
  const lengths = full([B], T, 'int64').keep();
  const y = randint(0, 2, [B]).keep();
  const step = () => {
    zeroGrad(params);
    tidy(() => {
      const logits = head.forward(encoder.encode({ ids, mask, lengths }).pooled);
      F.crossEntropy(logits, y).backward();
    });
    opt.step();
  };
  for (let i = 0; i < 3; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) step();
  const ms = (performance.now() - t0) / STEPS;
  encoder.dispose();
  head.dispose();
  opt.dispose();
  for (const t of [ids, mask, lengths, y]) t.dispose();
  return ms;
}

function torchMsPerStep(threads: number): number | null {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return null;
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const out = execFileSync(python, [path.join(here, 'engine_torch.py'), String(threads), String(STEPS)], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!).ms_per_step;
}

function matmulGflops(n: number): number {
  return tidy(() => {
    const a = randn([n, n]);
    const b = randn([n, n]);
    for (let i = 0; i < 3; i++) a.matmul(b).dispose();
    const reps = n >= 1024 ? 10 : 40;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) a.matmul(b).dispose();
    const s = (performance.now() - t0) / 1000;
    return (2 * n ** 3 * reps) / s / 1e9;
  });
}

function opOverheadMicros(): number {
  return tidy(() => {
    const x = randn([4]);
    const n = 100_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) native.dispose(native.addScalar(x.handle, 1));
    const raw = ((performance.now() - t0) * 1000) / n;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) x.add(1).dispose();
    const typed = ((performance.now() - t1) * 1000) / n;
    console.log(
      `per-op overhead: ${raw.toFixed(2)} µs raw addon call+free, ${typed.toFixed(2)} µs through Tensor`,
    );
    return typed;
  });
}

const blas = torchConfig().match(/BLAS_INFO=(\w+)/)?.[1] ?? '?';
console.log(`alembic engine benchmark — libtorch ${native.version()}, BLAS_INFO=${blas}, ${STEPS} steps`);
console.log(
  `model: ${L} layers, hidden ${H}, ${NH} heads, FFN ${FFN}, vocab ${V}, batch ${B}, seq ${T}, AdamW\n`,
);
const rows: string[] = [];
for (const threads of [1, 2]) {
  setNumThreads(threads);
  const ours = alembicMsPerStep();
  const theirs = torchMsPerStep(threads);
  const ratio = theirs ? (ours / theirs).toFixed(3) : 'n/a (no torch in /usr/bin/python3)';
  rows.push(
    `threads ${threads}: alembic ${ours.toFixed(1)} ms/step, PyTorch ${theirs ? theirs.toFixed(1) : '—'} ms/step, ratio ${ratio}`,
  );
  console.log(rows[rows.length - 1]);
  console.log(
    `  matmul: 512² ${matmulGflops(512).toFixed(1)} GFLOPS, 1024² ${matmulGflops(1024).toFixed(1)} GFLOPS`,
  );
}
setNumThreads(1);
opOverheadMicros();
