import { Option, type Command } from 'commander';
import { UserError } from '../util/errors.js';
import { exportModel } from '../api/verbs.js';
import type { ExportReport, SpeedComparison } from '../deploy/export/export-dir.js';
import { nonNegativeNumber, positiveInt, runCommand } from './run.js';

interface ExportFlags {
  model: string;
  out: string;
  int8?: boolean;
  int8Weights: '7' | '8';
  speedSeconds: number;
  opset: number;
  force?: boolean;
  layout: 'alembic' | 'hf';
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a trained model directory to ONNX (runs in onnxruntime, no libtorch needed)')
    .requiredOption('-m, --model <dir>', 'a trained model directory (e.g. output_dir/best)')
    .requiredOption(
      '-o, --out <dir>',
      'the exported directory to write (an earlier export there is replaced; any other folder is refused)',
    )
    .option(
      '--force',
      'replace --out even if it is not an earlier export (never the model or a folder holding it)',
    )
    .option('--int8', 'store weight matrices as int8 (dynamic quantisation); reports the dev-set change')
    .addOption(
      new Option(
        '--int8-weights <bits>',
        'with --int8: 8 (full range, exact on every CPU) or 7 (faster on x86 CPUs without VNNI, slightly less precise)',
      )
        .choices(['7', '8'])
        .default('8'),
    )
    .option(
      '--speed-seconds <s>',
      'with --int8: seconds to time int8 against fp32 on this machine per batch size (0 skips)',
      nonNegativeNumber('--speed-seconds'),
      1,
    )
    .addOption(
      new Option(
        '--layout <layout>',
        'alembic: model.onnx beside alembic-model.json; hf: also Hugging Face\'s layout (onnx/model.onnx, config.json, tokenizer.json) for transformers.js and Optimum — Transformer classifiers with the wordpiece tokenizer',
      )
        .choices(['alembic', 'hf'])
        .default('alembic'),
    )
    .option('--opset <n>', 'ONNX opset version (17 or newer for the Transformer)', positiveInt('--opset'), 17)
    .action((opts: ExportFlags) =>
      runCommand(async () => {
        if (opts.int8Weights === '7' && !opts.int8) throw new UserError('--int8-weights needs --int8');
        const report = await exportModel(opts.model, opts.out, {
          int8: opts.int8,
          opset: opts.opset,
          quantize: { reduceRange: opts.int8Weights === '7' },
          speedSeconds: opts.speedSeconds,
          force: opts.force,
          layout: opts.layout,
        });
        process.stdout.write(describe(report).join('\n') + '\n');
      })(),
    );
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

function describe(r: ExportReport): string[] {
  const s = r.section;
  const lines = [
    `wrote ${r.outDir}/${s.file} (${mb(r.bytes)}, opset ${s.opset}, ${s.int8 ? 'int8' : 'fp32'})`,
  ];
  for (const v of s.inputs) lines.push(`  input  ${v.name} ${v.type} [${v.dims.join(', ')}]`);
  for (const v of s.outputs) lines.push(`  output ${v.name} ${v.type} [${v.dims.join(', ')}]`);
  if (r.quantized) {
    const q = r.quantized;
    lines.push(
      q.quantized.length === 0
        ? 'int8: no weight matrix is large enough to quantise (all stay float)'
        : `int8: ${q.quantized.length} weight ${q.quantized.length === 1 ? 'matrix' : 'matrices'} ${mb(q.bytesBefore)} → ${mb(q.bytesAfter)}`,
    );
  }
  if (r.dev) {
    const d = r.dev;
    const change = d.int8 - d.fp32;
    lines.push(
      `dev ${d.metric}: fp32 ${d.fp32.toFixed(4)} → int8 ${d.int8.toFixed(4)} ` +
        `(${change >= 0 ? '+' : ''}${change.toFixed(4)}); predictions agree on ` +
        `${(100 * d.agreement).toFixed(2)} % of ${d.examples} examples (${d.file})`,
    );
  } else if (r.devSkipped) lines.push(`dev check skipped: ${r.devSkipped}`);
  if (r.speed) lines.push(...describeSpeed(r.speed));
  else if (r.speedSkipped) lines.push(`speed check skipped: ${r.speedSkipped}`);
  return lines;
}

/** int8 against fp32 on this machine, and what to deploy when int8 is not the faster one. */
function describeSpeed(speed: SpeedComparison): string[] {
  const ratios = speed.rows.map((r) => r.int8 / r.fp32);
  const qps = (v: number) => Math.round(v).toLocaleString('en-US');
  const lines = [
    `speed on this machine (${speed.threads} onnxruntime thread, seq ${speed.seq}): int8 ` +
      `${ratios.map((x) => `${x.toFixed(2)}×`).join(' / ')} the fp32 graph's QPS at batch ` +
      `${speed.rows.map((r) => r.batch).join(' / ')} (` +
      speed.rows.map((r) => `${qps(r.int8)} vs ${qps(r.fp32)}`).join('; ') +
      ')',
  ];
  const slower = speed.rows.filter((_, i) => ratios[i] < 1).map((r) => r.batch);
  if (slower.length === speed.rows.length)
    lines.push('  int8 is not faster here: export without --int8 unless the smaller file matters');
  else if (slower.length)
    lines.push(
      `  int8 is slower here at batch ${slower.join(', ')}: weigh it against how the service batches`,
    );
  return lines;
}
