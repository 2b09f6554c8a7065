import { Option, type Command } from 'commander';
import { UserError } from '../util/errors.js';
import { exportModelDir, type ExportReport } from '../deploy/export/export-dir.js';
import { positiveInt, runCommand } from './run.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a trained model directory to ONNX (runs in onnxruntime, no libtorch needed)')
    .requiredOption('-m, --model <dir>', 'a trained model directory (e.g. output_dir/best)')
    .requiredOption('-o, --out <dir>', 'the exported directory to write (replaced if it exists)')
    .option('--int8', 'store weight matrices as int8 (dynamic quantisation); reports the dev-set change')
    .addOption(
      new Option(
        '--int8-weights <bits>',
        'with --int8: 8 (full range, exact on every CPU) or 7 (faster on x86 CPUs without VNNI, slightly less precise)',
      )
        .choices(['7', '8'])
        .default('8'),
    )
    .option('--opset <n>', 'ONNX opset version (17 or newer for the Transformer)', positiveInt('--opset'), 17)
    .action((opts: { model: string; out: string; int8?: boolean; int8Weights: '7' | '8'; opset: number }) =>
      runCommand(async () => {
        if (opts.int8Weights === '7' && !opts.int8) throw new UserError('--int8-weights needs --int8');
        const report = await exportModelDir(opts.model, opts.out, {
          int8: opts.int8,
          opset: opts.opset,
          quantize: { reduceRange: opts.int8Weights === '7' },
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
  const lines = [`wrote ${r.outDir}/${s.file} (${mb(r.bytes)}, opset ${s.opset}${s.int8 ? ', int8' : ''})`];
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
  return lines;
}
