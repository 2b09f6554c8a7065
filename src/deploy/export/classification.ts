/**
 * The classification family's graph (src/tasks/classification.ts ClassifierModel): encoder → pooled vector
 * (siamese pairs: [u, v, |u−v|, u·v]) ⊕ standardised numeric features → linear head `classifier.*`.
 * Outputs `logits` [batch, labels] and `probabilities` [batch, labels] (softmax, or per-label sigmoid for
 * multi-label). Dropout is the identity at inference and is left out.
 */
import type { ClassificationExample } from '../../data/readers/types.js';
import { ClassificationTask, ClassifierModel } from '../../tasks/classification.js';
import { UserError } from '../../util/errors.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { encoderGraph } from './encoders.js';
import type { PredictOutput } from '../predictor.js';
import type { BuildOptions, DevCheck, ExportableModel, TaskExporter } from './task-exporter.js';
import { maskViews, textInputs } from './graph-ops.js';
import {
  ATTENTION_MASK,
  ATTENTION_MASK_B,
  INPUT_IDS,
  INPUT_IDS_B,
  LOGITS,
  NUMERIC_FEATURES,
  PROBABILITIES,
  TOKEN_TYPE_IDS,
} from './io.js';
import { StateReader } from './weights.js';

export const classificationExporter: TaskExporter = {
  build(g: OnnxGraphBuilder, m: ExportableModel, opts: BuildOptions = {}): void {
    if (!(m.model instanceof ClassifierModel) || !(m.task instanceof ClassificationTask)) {
      throw new UserError(`export: ${m.task.name} is not a classification model`);
    }
    const model = m.model;
    const state = new StateReader(model.stateDict());
    const encoder = encoderGraph(g, model.encoder, state.child('encoder'));
    const pairInOne = m.task.kind === 'pair' && !model.opts.siamese; // Transformer: [CLS] a [SEP] b [SEP]
    const a = textInputs(
      g,
      {
        ids: INPUT_IDS,
        mask: ATTENTION_MASK,
        typeIds: pairInOne || opts.tokenTypeIds ? TOKEN_TYPE_IDS : undefined,
      },
      'seq',
    );
    let x = encoder.encode(a, maskViews(g, a.mask), 'a').pooled();
    if (model.opts.siamese) {
      const b = textInputs(g, { ids: INPUT_IDS_B, mask: ATTENTION_MASK_B }, 'seq_b');
      const v = encoder.encode(b, maskViews(g, b.mask), 'b').pooled();
      x = g.scope('pair', () =>
        g.op('Concat', [x, v, g.op('Abs', [g.op('Sub', [x, v])]), g.op('Mul', [x, v])], { axis: 1 }),
      );
    }
    if (model.opts.numericSize > 0) {
      const { mean, std } = m.task.numeric;
      const raw = g.input(NUMERIC_FEATURES, 'float32', ['batch', model.opts.numericSize]);
      const standard = g.scope('numeric', () =>
        g.op('Div', [
          g.op('Sub', [raw, g.constant(Float32Array.from(mean), [mean.length], 'mean')]),
          g.constant(Float32Array.from(std), [std.length], 'std'),
        ]),
      );
      x = g.op('Concat', [x, standard], { axis: 1 });
    }
    const labels = model.opts.numLabels;
    const logits = state.linear(g, x, 'classifier');
    const probs = model.opts.multiLabel ? g.op('Sigmoid', [logits]) : g.softmax(logits, -1);
    g.output(logits, 'float32', ['batch', labels], { as: LOGITS });
    g.output(probs, 'float32', ['batch', labels], { as: PROBABILITIES });
  },

  devCheck(examples: unknown[]): DevCheck {
    const rows = examples as ClassificationExample[];
    const agree = (a: unknown, b: unknown) =>
      sameLabels((a as PredictOutput).labels, (b as PredictOutput).labels);
    if (rows.some((e) => e.labels !== undefined)) {
      const gold = rows.map((e) => e.labels ?? []);
      return { metric: 'micro_f1', agree, score: (p) => microF1(gold, p as PredictOutput[]) };
    }
    return {
      metric: 'accuracy',
      agree,
      score: (p) =>
        (p as PredictOutput[]).filter((x, i) => x.labels[0] === rows[i].label).length /
        Math.max(1, rows.length),
    };
  },
};

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** Micro-averaged F1 of predicted label sets against gold ones. */
function microF1(gold: string[][], predicted: PredictOutput[]): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  gold.forEach((g, i) => {
    const want = new Set(g);
    const got = new Set(predicted[i].labels);
    for (const l of got)
      if (want.has(l)) tp++;
      else fp++;
    for (const l of want) if (!got.has(l)) fn++;
  });
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}
