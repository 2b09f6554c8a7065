/**
 * Reading comprehension's graph (src/tasks/reading-comprehension.ts SpanModel): encoder → per-token states →
 * `qa_outputs.*` → `start_logits` and `end_logits` [batch, seq], −10000 at padding as in SpanModel.logits.
 * Inputs are the task's windows, `[CLS] question [SEP] context window [SEP]`, with `token_type_ids` for the
 * Transformer (the other nets do not read segments). The best span is found outside the graph by the task's
 * own decodeAnswer, over all windows of a question.
 */
import type { ReadingComprehensionExample } from '../../data/readers/types.js';
import { spanReport } from '../../metrics/index.js';
import { TransformerEncoder } from '../../nets/transformer.js';
import { SpanModel, type ReadingComprehensionPrediction } from '../../tasks/reading-comprehension.js';
import { UserError } from '../../util/errors.js';
import { int, type OnnxGraphBuilder } from '../onnx/index.js';
import { encoderGraph } from './encoders.js';
import type { DevCheck, ExportableModel, TaskExporter } from './task-exporter.js';
import { maskViews, textInputs } from './graph-ops.js';
import { ATTENTION_MASK, INPUT_IDS, TOKEN_TYPE_IDS } from './io.js';
import { StateReader } from './weights.js';

export const readingComprehensionExporter: TaskExporter = {
  build(g: OnnxGraphBuilder, m: ExportableModel): void {
    const model = m.model;
    if (!(model instanceof SpanModel)) throw new UserError(`export: ${m.task.name} is not a span model`);
    const state = new StateReader(model.stateDict());
    const encoder = encoderGraph(g, model.encoder, state.child('encoder'));
    const segments = model.encoder instanceof TransformerEncoder;
    const text = textInputs(
      g,
      { ids: INPUT_IDS, mask: ATTENTION_MASK, typeIds: segments ? TOKEN_TYPE_IDS : undefined },
      'seq',
    );
    const mask = maskViews(g, text.mask);
    const scores = state.linear(g, encoder.encode(text, mask, 'text').sequence(), 'qa_outputs'); // [batch, seq, 2]
    const pick = (k: number) =>
      g.op('Where', [
        mask.bool,
        g.op('Gather', [scores, g.constant(new BigInt64Array([BigInt(k)]), [], 'index')], { axis: int(2) }),
        g.scalar(-10000),
      ]);
    g.output(pick(0), 'float32', ['batch', 'seq'], { as: 'start_logits' });
    g.output(pick(1), 'float32', ['batch', 'seq'], { as: 'end_logits' });
  },

  /** SQuAD F1 of the answers (the task's own metric). */
  devCheck(examples: unknown[]): DevCheck {
    const gold = (examples as ReadingComprehensionExample[]).map((e) => e.answers.map((a) => a.text));
    const answer = (p: unknown) => (p as ReadingComprehensionPrediction).answer;
    return {
      metric: 'f1',
      score: (predictions) => spanReport(predictions.map(answer), gold).f1,
      agree: (a, b) => answer(a) === answer(b),
    };
  },
};
