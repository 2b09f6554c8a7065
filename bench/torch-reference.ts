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
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Python that exports the references: $ALEMBIC_REFERENCE_PYTHON, else the project's .venv-bench
 * (`scripts/setup.sh --bench`: Debian's python3-torch plus pip's onnxruntime), else Debian's python3.
 */
const VENV_PYTHON = fileURLToPath(new URL('../.venv-bench/bin/python', import.meta.url));
const PYTHON =
  process.env.ALEMBIC_REFERENCE_PYTHON ?? (existsSync(VENV_PYTHON) ? VENV_PYTHON : '/usr/bin/python3');

export type ReferenceNet = 'bow' | 'cnn' | 'transformer';

/** The Python scripts next to this file. */
const EXPORT_SCRIPT = fileURLToPath(new URL('./torch_reference_export.py', import.meta.url));
const QUANTIZE_SCRIPT = fileURLToPath(new URL('./torch_reference_quantize.py', import.meta.url));

/** Whether the same-run references can be made here, or why not. */
export function torchReferenceUnavailable(): string | undefined {
  if (!existsSync(EXPORT_SCRIPT)) return `${EXPORT_SCRIPT} is absent`;
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
  const file = path.join(dir, `${net}-v${vocabSize}.onnx`);
  if (!existsSync(file))
    runPython(EXPORT_SCRIPT, [net, String(vocabSize), file], `PyTorch reference export of ${net}`);
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

/** Whether onnxruntime's quantizer can make the int8 references here, or why not. */
export function quantizerUnavailable(): string | undefined {
  if (!existsSync(QUANTIZE_SCRIPT)) return `${QUANTIZE_SCRIPT} is absent`;
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
    runPython(
      QUANTIZE_SCRIPT,
      [fp32File, file, String(weightBits)],
      'onnxruntime quantisation of the PyTorch reference',
    );
  }
  return file;
}
