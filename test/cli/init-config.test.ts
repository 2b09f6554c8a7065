// Every init-config template trains as written on a small slice of real bundled data in its task's
// documented format (test/helpers/template-data.ts): only sizes, epochs and files are changed, through
// the same --set overrides a user has; the learning rate (but for the shrunk Transformer on pairs),
// pooling, head, tokenizer (but words for the English matching pairs, as the template's comment says)
// and metric are the template's. Each run must end well beyond a trivial baseline computed from the same
// data: chance for labels, the unigram perplexity for token predictors. Not yet: matching with the nets
// of MATCHING_NEAR_CHANCE and reading comprehension (see its log line) are checked to train, their score
// logged beside their baseline.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startingConfig } from '../../src/config/config-template.js';
import { applyOverrides } from '../../src/config/overrides.js';
import { checkMetrics, NETS, parseConfig, TASKS, type TaskName } from '../../src/config/run-config.js';
import { train } from '../../src/train/trainer.js';
import { createTask } from '../../src/tasks/registry.js';
import { createTokenizer } from '../../src/data/tokenizers/create-tokenizer.js';
import type { TrainConfig } from '../../src/config/run-config.js';
import {
  fixedSpanF1,
  generationPairs,
  templateData,
  textLines,
  unigramPerplexity,
} from '../helpers/template-data.js';
import { tempDir } from '../helpers/tiny-data.js';

/**
 * Nets that stay near chance on brown-same-text within the test's budget, so are only checked to train.
 * Its label is "same genre" for a sentence and two of a romance or government text: no feature of one
 * text predicts it, so a siamese net must learn each text's genre well and then compare (with per-text
 * genre accuracy p the best is p² + (1 − p)²). After 450 steps the CNN reached 0.53–0.59 (characters or
 * words; rates 1e-3 to 1e-2, widths from 1 and the template's 128 filters alike; alone it tells a
 * sentence's genre at 0.74–0.83, so at most 0.61–0.72 here), the cross-encoder 0.52–0.54 (1 × 32 or the
 * template's 2 × 128; its dev loss rises to 0.79: it learns the training pairs, not the genres).
 */
const MATCHING_NEAR_CHANCE = ['cnn', 'transformer'];

/** Tiny shapes and a short run: what the test changes (each a --set a user could write). */
function shrink(net: string, task: TaskName): string[] {
  const sizes =
    net === 'transformer'
      ? ['model.hidden_size=32', 'model.num_heads=2', 'model.ffn_size=64', 'model.num_layers=1']
      : ['model.embedding_dim=32', net === 'cnn' ? 'model.num_filters=32' : 'model.hidden_size=32'];
  // One epoch where the run is only checked to train (the nets that stay near chance on matching).
  const long =
    task !== 'multi_label_classification' &&
    task !== 'reading_comprehension' &&
    !(task === 'text_matching' && MATCHING_NEAR_CHANCE.includes(net));
  // A 1×32 Transformer takes a larger rate than the template's 2×128 one: on brown-which-novel the
  // template's own size and rate reached 0.85 too, but in 270 s.
  const pairs = task === 'text_pair_classification' || task === 'text_matching';
  return [
    ...sizes,
    ...(net === 'transformer' && pairs ? ['trainer.learning_rate=1e-3'] : []),
    `trainer.epochs=${long ? 3 : 1}`,
    'trainer.batch_size=16',
    'trainer.threads=1',
    'trainer.eval_step=1000',
    // Emails keep the template's max_len: their first 48 characters are mostly headers.
    ...(task === 'text_classification' ? [] : [`dataset.max_len=${pairs ? 64 : 48}`]),
    // brown-same-text is English: the template's comment says whitespace for English words. Read as
    // characters, a sentence's words (which say its genre) are lost: after 450 steps at 1e-3 a GRU reached
    // 0.58 on characters, 0.64 on words.
    ...(task === 'text_matching' ? ['dataset.tokenizer.type="whitespace"'] : []),
    ...(task === 'reading_comprehension' ? ['dataset.max_question_len=16', 'dataset.doc_stride=16'] : []),
    ...(task === 'text_generation' ? ['generation.beam_size=1', 'generation.max_length=12'] : []),
  ];
}

/** The trivial baseline of a task's data and how far past it a run must end. */
interface Beyond {
  metric: string;
  baseline: number;
  /** The run must reach baseline + margin (higher is better) or baseline × factor (lower is better). */
  margin?: number;
  factor?: number;
  what: string;
}

function beyond(
  task: TaskName,
  net: string,
  config: TrainConfig,
  data: { train: string; dev: string; chance?: number },
): Beyond | undefined {
  const tokenizer = createTokenizer(config.dataset.tokenizer);
  const tokenize = (text: string) => tokenizer.tokenize(text);
  switch (task) {
    case 'text_classification':
      return { metric: 'accuracy', baseline: data.chance!, margin: 0.1, what: 'chance' };
    // Tagging: 3 short epochs of 40 steps at 32 dimensions; chance is always answering the commonest tag.
    case 'sequence_labeling':
      return { metric: 'accuracy', baseline: data.chance!, margin: 0.05, what: 'chance' };
    case 'text_pair_classification':
      return { metric: 'accuracy', baseline: data.chance!, margin: 0.15, what: 'chance' };
    case 'text_matching':
      return MATCHING_NEAR_CHANCE.includes(net)
        ? undefined
        : { metric: 'accuracy', baseline: data.chance!, margin: 0.15, what: 'chance' };
    case 'language_model': {
      const ppl = unigramPerplexity(
        textLines(data.train),
        textLines(data.dev),
        tokenize,
        config.dataset.max_len - 2,
      );
      return { metric: 'perplexity', baseline: ppl, factor: 0.85, what: 'unigram perplexity' };
    }
    case 'text_generation': {
      const max = (config.generation?.max_length ?? 64) - 1;
      const targets = (file: string) => generationPairs(file).map((p) => p.target);
      const ppl = unigramPerplexity(targets(data.train), targets(data.dev), tokenize, max);
      return { metric: 'perplexity', baseline: ppl, factor: 0.95, what: 'unigram perplexity of the targets' };
    }
    default:
      return undefined;
  }
}

/** The nets init-config refuses for a task (config-template.ts says why). */
const SKIP: Record<string, string[]> = {
  language_model: ['bow', 'cnn'],
  text_generation: ['bow', 'cnn'],
  reading_comprehension: ['bow', 'cnn'],
};

for (const task of TASKS) {
  describe(`init-config ${task}`, () => {
    const dir = tempDir();
    let slice: ReturnType<typeof templateData> | undefined;
    for (const net of NETS) {
      if (SKIP[task]?.includes(net)) {
        it(`refuses ${net} with the reason`, () => {
          assert.throws(
            () => startingConfig(task, net),
            /cannot do .*(reads left to right|takes transformer, gru or lstm)/,
          );
        });
        continue;
      }
      it(`${net}: trains as written`, async () => {
        const runDir = path.join(dir, net);
        const data = (slice ??= templateData(task, dir));
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
        const goal = beyond(task, net, config, data);
        const got = summary.dev[goal?.metric ?? metric ?? 'loss'];
        // poem-next-line asks for the line after a quoted one: a net must find the quoted line in the poem,
        // which at 32 dims it did not learn within the test's budget — after 300 steps (2,400 questions,
        // 2 epochs, windows of 96) the GRU scored F1 0.238 and a 2 × 32 Transformer 0.232 against the best
        // fixed span's 0.247 on the same dev set; the template's own 2 × 128 Transformer reached 0.319 after
        // 750 steps, far beyond a test's budget. So reading comprehension is only checked to train.
        if (task === 'reading_comprehension')
          console.log(
            `# ${task} ${net}: dev f1 ${summary.dev.f1.toFixed(3)} (fixed span ${fixedSpanF1(data.train, data.dev).toFixed(3)})`,
          );
        if (task === 'text_matching' && !goal)
          console.log(
            `# ${task} ${net}: dev accuracy ${summary.dev.accuracy.toFixed(3)} (chance ${data.chance!.toFixed(3)})`,
          );
        if (!goal) return;
        console.log(
          `# ${task} ${net}: dev ${goal.metric} ${got.toFixed(3)} (${goal.what} ${goal.baseline.toFixed(3)})`,
        );
        if (goal.factor !== undefined)
          assert.ok(
            got < goal.baseline * goal.factor,
            `dev ${goal.metric} ${got} against ${goal.what} ${goal.baseline}`,
          );
        else
          assert.ok(
            got > goal.baseline + goal.margin!,
            `dev ${goal.metric} ${got} against ${goal.what} ${goal.baseline}`,
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

  it('a template offers dataset.streaming exactly for the tasks whose training file streams', () => {
    for (const task of TASKS) {
      const template = startingConfig(task, 'gru');
      const offered = 'streaming' in (template.dataset as Record<string, unknown>);
      const streams = typeof createTask(parseConfig(template, '/tmp/c.json')).streaming?.() === 'object';
      assert.equal(offered, streams, task);
    }
  });
});
