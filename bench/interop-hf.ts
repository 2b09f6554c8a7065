/**
 * Interop with Hugging Face transformers: fine-tunes a small Transformer classifier in alembic on real
 * data (Tang vs Song poems), loads its best/ with `AutoModelForSequenceClassification.from_pretrained`
 * in Python, and prints the missing and unexpected keys and the max |Δ| between the two libraries'
 * logits on test texts (target ≤ 1e-5), plus how many texts BertTokenizer turns into alembic's ids.
 * Python (torch + transformers; ALEMBIC_PYTHON, else /usr/bin/python3) is the reference only: without
 * it the bench says so and stops.
 *
 *   npm run bench:interop [-- --steps 60]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { tangSongSplits, writeSplits } from '../src/data/corpora/standard-splits.js';
import { noGrad } from '../src/engine/scope.js';
import type {
  ClassificationFeatures,
  ClassificationTask,
  ClassifierModel,
} from '../src/tasks/classification.js';
import { parseConfig } from '../src/config/run-config.js';
import { loadModelDir } from '../src/train/model-dir.js';
import { train } from '../src/train/trainer.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '60' } } });

function python(): string | undefined {
  const candidate = process.env.ALEMBIC_PYTHON ?? '/usr/bin/python3';
  try {
    execFileSync(candidate, ['-c', 'import torch, transformers'], { stdio: 'ignore' });
    return candidate;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const py = python();
  if (!py) {
    console.log(
      'bench:interop skipped: no Python with torch and transformers (set ALEMBIC_PYTHON to a venv python)',
    );
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alembic-interop-'));
  try {
    const splits = tangSongSplits(300);
    const files = writeSplits(splits, dir);
    const config = parseConfig(
      {
        task: 'text_classification',
        dataset: { train: files.train, dev: files.dev, max_len: 64 },
        model: { net: 'transformer', hidden_size: 64, num_layers: 2, num_heads: 4, ffn_size: 128 },
        trainer: {
          epochs: 10,
          max_steps: Number(args.steps),
          batch_size: 16,
          learning_rate: 0.002,
          eval_step: 20,
          threads: 2,
          output_dir: path.join(dir, 'run'),
        },
      },
      path.join(dir, 'config.json'),
    );
    await train(config, { quiet: true, log: () => {} });
    const best = path.join(dir, 'run', 'best');
    const m = loadModelDir(best);
    const task = m.task as unknown as ClassificationTask;
    const model = m.model as unknown as ClassifierModel;
    const texts = splits.test.slice(0, 32).map((e) => e.text);
    const features: ClassificationFeatures[] = texts.map((text) => task.encode({ text }));
    const logits = features.map((f) => noGrad(() => model.logits([f]).toArray()));
    const labels = task.predict(model, features).map((p: { labels: string[] }) => p.labels[0]);
    const caseFile = path.join(dir, 'case.json');
    writeFileSync(
      caseFile,
      JSON.stringify({
        dir: best,
        texts,
        labels,
        input_ids: features.map((f) => f.a.ids),
        token_type_ids: features.map((f) => f.a.typeIds ?? f.a.ids.map(() => 0)),
        logits,
      }),
    );
    const out = JSON.parse(
      execFileSync(py, [path.join(here, 'interop-hf.py'), caseFile], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      })
        .trim()
        .split('\n')
        .pop()!,
    ) as Record<string, unknown>;
    const diff = Number(out.max_abs_diff);
    console.log(`transformers loads ${best} as ${String(out.architecture)}`);
    console.log(
      `  missing keys ${(out.missing as string[]).length}, unexpected keys ${(out.unexpected as string[]).length}`,
    );
    console.log(
      `  max |Δ logits| over ${String(out.texts)} texts: ${diff.toExponential(2)} (target 1e-5: ${(diff / 1e-5).toFixed(3)}× the target)`,
    );
    console.log(`  same predicted label: ${String(out.same_label)}/${String(out.texts)}`);
    console.log(`  BertTokenizer gives alembic's ids for ${String(out.same_ids)}/${String(out.texts)} texts`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
