import { Option, type Command } from 'commander';
import { isExportedDir, predictExported } from '../deploy/export/predict-exported.js';
import { setNumThreads } from '../engine/runtime.js';
import { predictWithPipeline } from '../deploy/prediction-pipeline.js';
import { PREDICTION_FORMATS, writePredictions, type PredictionFormat } from '../tasks/write-predictions.js';
import { loadModelDir } from '../train/model-dir.js';
import { UserError } from '../util/errors.js';
import { inputFile } from '../util/input-file.js';
import { threadsOption } from './config-flags.js';
import { positiveInt, runCommand } from './run.js';

interface PredictFlags {
  model?: string;
  pipeline?: string;
  input?: string;
  batchSize: number;
  format: PredictionFormat;
  threads?: number;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('predict with a trained model: one input per line from --input or stdin')
    .option('-m, --model <dir>', 'a model directory')
    .option('--pipeline <file>', 'a pipeline.json chaining models (instead of --model); JSON lines out')
    .option('-i, --input <file>', 'input file in the task format without labels (default: stdin)')
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 64)
    .addOption(
      new Option(
        '--format <format>',
        'tsv: a header line naming the columns (and the labels of the probabilities), then a line per input; ' +
          'json: one array of records; jsonl: a record per line',
      )
        .choices(PREDICTION_FORMATS)
        .default('tsv'),
    )
    .option(...threadsOption('threads (libtorch; onnxruntime for an exported model, default 1)'))
    .action((opts: PredictFlags) =>
      runCommand(async () => {
        if (opts.pipeline) {
          const input = await inputFile(opts.input, 'alembic-predict-');
          await predictWithPipeline(opts.pipeline, input.file, opts.batchSize).finally(input.cleanup);
          return;
        }
        if (!opts.model) throw new UserError('predict: give --model <dir> or --pipeline <file>');
        // An exported directory (alembic export) runs in onnxruntime.
        const write = (text: string) => void process.stdout.write(text);
        if (isExportedDir(opts.model))
          return predictExported(opts.model, opts.input, opts.batchSize, write, {
            format: opts.format,
            threads: opts.threads,
          });
        if (opts.threads) setNumThreads(opts.threads);
        const m = loadModelDir(opts.model);
        const { file, cleanup } = await inputFile(opts.input, 'alembic-predict-');
        try {
          const examples = await m.task.read(file, { labelled: false });
          await writePredictions(
            m.task,
            examples,
            opts.batchSize,
            (chunk) =>
              m.task.predict(
                m.model,
                chunk.map((e) => m.task.encode(e)),
              ),
            write,
            opts.format,
          );
        } finally {
          cleanup();
        }
      })(),
    );
}
