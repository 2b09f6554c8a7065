/**
 * The TF-IDF + logistic-regression baseline (bench/tfidf_lr.py) run from a Python venv with scikit-learn,
 * for the benchmarks that compare alembic's models with what a practitioner would fit instead. Python is a
 * reference only: without a Python holding scikit-learn (ALEMBIC_PYTHON, else a venv in the repository) the
 * baseline is skipped with a message.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
/** setup.sh --bench's venv, or one made with `python3 -m venv .venv-bench-sk && .venv-bench-sk/bin/pip install scikit-learn`. */
const VENVS = ['.venv-bench', '.venv-bench-sk'];

export interface BaselineScore {
  accuracy: number;
  macro_f1: number;
  seconds: number;
}

let python: string | null | undefined;

/** A venv's python that imports scikit-learn, or null (and why, once, on the console). */
function sklearnPython(): string | null {
  if (python !== undefined) return python;
  python = null;
  const candidates = [
    ...(process.env.ALEMBIC_PYTHON ? [process.env.ALEMBIC_PYTHON] : []),
    ...VENVS.map((venv) => path.join(ROOT, venv, 'bin', 'python')),
  ];
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    try {
      execFileSync(bin, ['-c', 'import sklearn'], { stdio: 'ignore' });
      python = bin;
      break;
    } catch {
      // this Python has no scikit-learn; try the next
    }
  }
  if (!python) {
    console.log(
      `TF-IDF+LR baseline skipped: no ALEMBIC_PYTHON, ${VENVS.join(' or ')} with scikit-learn ` +
        '(python3 -m venv .venv-bench-sk && .venv-bench-sk/bin/pip install scikit-learn)',
    );
  }
  return python;
}

/** The baseline's test scores on these files, or undefined when scikit-learn is missing. */
export function tfidfBaseline(train: string, test: string, unit: 'word' | 'char'): BaselineScore | undefined {
  const bin = sklearnPython();
  if (!bin) return undefined;
  const out = execFileSync(bin, [path.join(ROOT, 'bench', 'tfidf_lr.py'), train, test, unit], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as BaselineScore;
}

/** "+0.012" / "−0.034": a score's difference to the baseline's. */
export function versus(value: number, baseline: number | undefined): string {
  if (baseline === undefined) return '—';
  const d = value - baseline;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(3)}`;
}

/** Mean and spread (max − min) of seeds' scores; `text` is "mean (range r)" for several seeds. */
export function spread(values: readonly number[]): { mean: number; range: number; text: string } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const range = Math.max(...values) - Math.min(...values);
  return {
    mean,
    range,
    text: values.length > 1 ? `${mean.toFixed(4)} (range ${range.toFixed(4)})` : mean.toFixed(4),
  };
}
