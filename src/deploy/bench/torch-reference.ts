/**
 * Same-run references: the preset shapes written in PyTorch and exported by PyTorch's own ONNX exporter
 * (when the reference Python has torch), then timed in onnxruntime-node next to alembic's graphs; and their
 * int8 versions made by onnxruntime's own `quantize_dynamic` (when that Python has onnxruntime). The fixed
 * reference figures were measured on an idle machine; on a busy one every figure drops, and only a ratio
 * measured in the same run still says whether alembic's graphs are as fast as PyTorch's.
 *
 * The PyTorch modules follow alembic's nets (src/nets): BOW = masked mean → softsign → ReLU layer;
 * CNN = convolutions of widths 2/3/4 → ReLU → max over the real windows; Transformer = post-LayerNorm BERT
 * with learned positions and a tanh [CLS] pooler; each with a linear head and softmax. Inputs are
 * input_ids and attention_mask (int64, dynamic batch and sequence), output `probabilities`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Python that exports the references: $ALEMBIC_REFERENCE_PYTHON, else the project's .venv-bench
 * (`scripts/setup.sh --bench`: Debian's python3-torch plus pip's onnxruntime), else Debian's python3.
 */
const VENV_PYTHON = fileURLToPath(new URL('../../../.venv-bench/bin/python', import.meta.url));
const PYTHON =
  process.env.ALEMBIC_REFERENCE_PYTHON ?? (existsSync(VENV_PYTHON) ? VENV_PYTHON : '/usr/bin/python3');

export type ReferenceNet = 'bow' | 'cnn' | 'transformer';

const SCRIPT = String.raw`
import math, sys, warnings
warnings.filterwarnings("ignore")
import torch
from torch import nn

net, vocab, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)

class Bow(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(vocab, 128, padding_idx=0)
        s.fc = nn.Linear(128, 128)
        s.head = nn.Linear(128, 2)
    def forward(s, ids, mask):
        m = mask.unsqueeze(-1).float()
        bag = (s.emb(ids) * m).sum(1) / m.sum(1).clamp(min=1.0)
        x = torch.relu(s.fc(bag / (1 + bag.abs())))
        return torch.softmax(s.head(x), -1)

class Cnn(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(vocab, 128, padding_idx=0)
        s.widths = [2, 3, 4]
        s.convs = nn.ModuleList([nn.Conv1d(128, 128, k) for k in s.widths])
        s.head = nn.Linear(384, 2)
    def forward(s, ids, mask):
        x = (s.emb(ids) * mask.unsqueeze(-1).float()).transpose(1, 2)
        lengths = mask.sum(1, keepdim=True)
        pooled = []
        for k, conv in zip(s.widths, s.convs):
            w = torch.relu(conv(x)).transpose(1, 2)
            pos = torch.arange(w.shape[1]).unsqueeze(0)
            real = pos < (lengths - k + 1).clamp(min=1)
            pooled.append(w.masked_fill(~real.unsqueeze(-1), float("-inf")).max(1).values)
        return torch.softmax(s.head(torch.cat(pooled, 1)), -1)

class Layer(nn.Module):
    def __init__(s, h, heads, ffn):
        super().__init__()
        s.heads = heads
        s.q, s.k, s.v, s.o = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        s.ln1, s.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        s.up, s.down = nn.Linear(h, ffn), nn.Linear(ffn, h)
    def forward(s, x, bias):
        b, t, h = x.shape
        d = h // s.heads
        split = lambda y: y.view(b, t, s.heads, d).transpose(1, 2)
        q, k, v = split(s.q(x)), split(s.k(x)), split(s.v(x))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, -1)
        ctx = (a @ v).transpose(1, 2).reshape(b, t, h)
        x = s.ln1(x + s.o(ctx))
        return s.ln2(x + s.down(nn.functional.gelu(s.up(x))))

class Transformer(nn.Module):
    def __init__(s, h=256, layers=4, heads=4, ffn=1024, positions=512):
        super().__init__()
        s.word, s.pos, s.segment = nn.Embedding(vocab, h), nn.Embedding(positions, h), nn.Embedding(2, h)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.layers = nn.ModuleList([Layer(h, heads, ffn) for _ in range(layers)])
        s.pooler, s.head = nn.Linear(h, h), nn.Linear(h, 2)
    def forward(s, ids, mask):
        t = ids.shape[1]
        x = s.word(ids) + s.pos(torch.arange(t).unsqueeze(0)) + s.segment(torch.zeros_like(ids))
        x = s.ln(x)
        bias = (1.0 - mask.float()).unsqueeze(1).unsqueeze(1) * -10000.0
        for layer in s.layers:
            x = layer(x, bias)
        return torch.softmax(s.head(torch.tanh(s.pooler(x[:, 0]))), -1)

model = {"bow": Bow, "cnn": Cnn, "transformer": Transformer}[net]().eval()
ids = torch.randint(5, vocab, (2, 64))
mask = torch.ones(2, 64, dtype=torch.long)
axes = {0: "batch", 1: "seq"}
with torch.no_grad():
    torch.onnx.export(model, (ids, mask), out, input_names=["input_ids", "attention_mask"],
                      output_names=["probabilities"], opset_version=17,
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "probabilities": {0: "batch"}})
print("ok")
`;

/** Whether the same-run references can be made here, or why not. */
export function torchReferenceUnavailable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    return `${PYTHON} has no torch`;
  }
  return undefined;
}

/** Exports the PyTorch version of `net` with a `vocabSize` embedding into `dir`; returns the .onnx path. */
export function exportTorchReference(net: ReferenceNet, vocabSize: number, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const script = path.join(dir, 'torch_reference.py');
  writeFileSync(script, SCRIPT);
  const file = path.join(dir, `${net}-v${vocabSize}.onnx`);
  if (!existsSync(file))
    runPython(script, [net, String(vocabSize), file], `PyTorch reference export of ${net}`);
  return file;
}

function runPython(script: string, args: string[], what: string): void {
  try {
    execFileSync(PYTHON, [script, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: '1' },
    });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')
      .slice(-3)
      .join(' | ');
    throw new Error(`${what} failed: ${stderr || (e as Error).message}`);
  }
}

// onnxruntime's defaults (one scale per tensor, int8 weights); reduce_range gives 7-bit weights like
// alembic's --int8-weights 7, so the two int8 graphs are compared at the same precision.
const QUANTIZE_SCRIPT = String.raw`
import logging, sys, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
from onnxruntime.quantization import QuantType, quantize_dynamic
quantize_dynamic(sys.argv[1], sys.argv[2], weight_type=QuantType.QInt8, reduce_range=sys.argv[3] == "7")
print("ok")
`;

/** Whether onnxruntime's quantizer can make the int8 references here, or why not. */
export function quantizerUnavailable(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import onnxruntime.quantization'], { stdio: 'ignore' });
  } catch {
    return `${PYTHON} has no onnxruntime (scripts/setup.sh --bench installs it)`;
  }
  return undefined;
}

/** onnxruntime's `quantize_dynamic` of a PyTorch-exported reference; returns the int8 .onnx path. */
export function quantizeTorchReference(fp32File: string, weightBits: 7 | 8): string {
  const file = fp32File.replace(/\.onnx$/, `-int8w${weightBits}.onnx`);
  if (!existsSync(file)) {
    const script = path.join(path.dirname(fp32File), 'quantize_reference.py');
    writeFileSync(script, QUANTIZE_SCRIPT);
    runPython(
      script,
      [fp32File, file, String(weightBits)],
      'onnxruntime quantisation of the PyTorch reference',
    );
  }
  return file;
}
