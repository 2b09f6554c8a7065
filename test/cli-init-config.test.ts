// Every init-config template trains as written on a small slice of real bundled data in its task's
// documented format (test/helpers/template-data.ts): only sizes, epochs and files are changed, through
// the same --set overrides a user has; the learning rate, pooling, head, tokenizer and metric are the
// template's. Where a chance level applies the run must end well above it.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startingConfig } from '../src/cli/config-template.js';
import { applyOverrides } from '../src/config/overrides.js';
import { checkMetrics, NETS, parseConfig, TASKS, type TaskName } from '../src/config/run-config.js';
import { train } from '../src/train/trainer.js';
import { templateData } from './helpers/template-data.js';
import { tempDir } from './helpers/tiny-data.js';

/** Tiny shapes and a short run: what the test changes (each a --set a user could write). */
function shrink(net: string, task: TaskName): string[] {
  const sizes =
    net === 'transformer'
      ? ['model.hidden_size=32', 'model.num_heads=2', 'model.ffn_size=64', 'model.num_layers=1']
      : ['model.embedding_dim=32', net === 'cnn' ? 'model.num_filters=32' : 'model.hidden_size=32'];
  const long = task === 'sequence_labeling' || task === 'text_classification';
  return [
    ...sizes,
    `trainer.epochs=${long ? 3 : 1}`,
    'trainer.batch_size=16',
    'trainer.threads=1',
    'trainer.eval_step=1000',
    // Emails keep the template's max_len: their first 48 characters are mostly headers.
    ...(task === 'text_classification' ? [] : ['dataset.max_len=48']),
    ...(task === 'reading_comprehension' ? ['dataset.max_question_len=16', 'dataset.doc_stride=16'] : []),
    ...(task === 'text_generation' ? ['generation.beam_size=1', 'generation.max_length=12'] : []),
  ];
}

/** The fraction of dev predictions a run got right, on the metric that has a chance level. */
function accuracyOf(task: TaskName, dev: Record<string, number>): number | undefined {
  if (task === 'text_classification' || task === 'text_pair_classification' || task === 'text_matching')
    return dev.accuracy;
  if (task === 'sequence_labeling') return dev.accuracy;
  return undefined;
}

const SKIP: Record<string, string[]> = { language_model: ['bow', 'cnn'], text_generation: ['bow', 'cnn'] };

for (const task of TASKS) {
  describe(`init-config ${task}`, () => {
    const dir = tempDir();
    for (const net of NETS) {
      if (SKIP[task]?.includes(net)) {
        it(`refuses ${net} with the reason`, () => {
          assert.throws(
            () => startingConfig(task, net),
            /cannot do .* reads left to right|takes transformer, gru or lstm/,
          );
        });
        continue;
      }
      it(`${net}: trains as written${task === 'text_classification' ? ' well above chance' : ''}`, async () => {
        const runDir = path.join(dir, net);
        const data = templateData(task, dir);
        const template = startingConfig(task, net);
        // The template itself: settings the net uses, a metric the task reports.
        const model = template.model as Record<string, unknown>;
        if (net === 'cnn')
          assert.ok('kernel_widths' in model && 'num_filters' in model && !('hidden_size' in model));
        if (net === 'transformer')
          assert.deepEqual([model.pooling, model.num_layers, model.hidden_size], ['mean', 2, 128]);
        if (task === 'sequence_labeling') {
          assert.equal((template.dataset as { tokenizer: { type: string } }).tokenizer.type, 'whitespace');
          assert.equal(model.head, 'crf');
          // Taggers over words read each word's characters too (the transformer and BOW cannot).
          assert.equal('char_features' in model, ['lstm', 'gru', 'cnn'].includes(net));
        }
        const raw = applyOverrides(
          template,
          [
            ...shrink(net, task),
            `dataset.train="${data.train}"`,
            `dataset.dev="${data.dev}"`,
            'dataset.test=null',
            `trainer.output_dir="${runDir}"`,
          ],
          'template.json',
        );
        delete (raw as { dataset: Record<string, unknown> }).dataset.test;
        const config = parseConfig(raw, path.join(dir, 'template.json'));
        checkMetrics(config, 'template.json');
        const summary = await train(config, { quiet: true, log: () => {} });
        assert.ok(summary.dev, 'evaluated on dev');
        const metric = config.trainer.early_stopping?.metric;
        if (metric) assert.ok(Number.isFinite(summary.dev[metric]), `${metric} = ${summary.dev[metric]}`);
        const accuracy = accuracyOf(task, summary.dev);
        if (data.chance !== undefined && accuracy !== undefined)
          console.log(
            `# ${task} ${net}: dev accuracy ${accuracy.toFixed(3)} (chance ${data.chance.toFixed(3)})`,
          );
        // Tagging: 3 short epochs of 40 steps at 32 dimensions; chance is always answering the commonest tag.
        const margin = task === 'text_classification' ? 0.1 : 0.05;
        if (task === 'text_classification' || task === 'sequence_labeling')
          assert.ok(
            accuracy! > data.chance! + margin,
            `dev accuracy ${accuracy} against chance ${data.chance}`,
          );
      });
    }
  });
}

describe('init-config recipes', () => {
  it('a Transformer with --pretrained-dir gets the fine-tuning recipe; masked LM is for pretrain', () => {
    const c = startingConfig('text_classification', 'transformer', { pretrainedDir: 'ckpt' });
    const model = c.model as Record<string, unknown>;
    const trainer = c.trainer as Record<string, unknown>;
    assert.deepEqual([model.pretrained_dir, model.pooling, 'hidden_size' in model], ['ckpt', 'cls', false]);
    assert.deepEqual([trainer.learning_rate, trainer.epochs], [5e-5, 3]);
    assert.equal((c.dataset as { tokenizer: { type: string } }).tokenizer.type, 'wordpiece');
    const parsed = parseConfig(c, '/tmp/x/c.json');
    checkMetrics(parsed, 'c.json');
    const scratch = startingConfig('text_classification', 'transformer').trainer as Record<string, unknown>;
    assert.deepEqual([scratch.learning_rate, scratch.epochs], [3e-4, 10]);
    const masked = parseConfig(
      startingConfig('language_model', 'transformer', { objective: 'masked' }),
      '/tmp/c.json',
    );
    assert.deepEqual(
      [masked.language_model?.objective, masked.trainer.early_stopping?.metric],
      ['masked', 'perplexity'],
    );
    checkMetrics(masked, 'c.json');
    assert.throws(
      () => startingConfig('text_classification', 'cnn', { pretrainedDir: 'x' }),
      /--pretrained-dir/,
    );
    assert.ok(
      Number.isInteger((startingConfig('text_classification', 'bow').trainer as { threads: number }).threads),
    );
  });
});
