/**
 * Text matching's graph (src/tasks/matching.ts MatchingModel). Siamese nets encode each text alone
 * (`input_ids`/`attention_mask` and `input_ids_b`/`attention_mask_b`) into u and v, scored by the cosine of
 * u and v or by the MLP `mlp.*` → ReLU → `scorer.*` over [u, v, |u−v|, u·v]; the Transformer cross-encoder
 * reads `[CLS] a [SEP] b [SEP]` with `token_type_ids` and scores the pooled [CLS] with `scorer.*`.
 * Outputs `raw_score` [batch] (the logit, or the cosine) and `score` [batch], the similarity the task
 * reports: the cosine itself, else the logit's sigmoid, mapped back onto the training labels' range when
 * the model learnt graded scores.
 */
import type { PointwiseExample } from '../../data/readers/types.js';
import { MatchingModel, type MatchingPrediction, type MatchingState } from '../../tasks/matching.js';
import { UserError } from '../../util/errors.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { encoderGraph } from './encoders.js';
import type { DevCheck, ExportableModel, TaskExporter } from './task-exporter.js';
import { maskViews, reduce, textInputs } from './graph-ops.js';
import { ATTENTION_MASK, ATTENTION_MASK_B, INPUT_IDS, INPUT_IDS_B, TOKEN_TYPE_IDS } from './io.js';
import { StateReader } from './weights.js';

export const matchingExporter: TaskExporter = {
  build(g: OnnxGraphBuilder, m: ExportableModel): void {
    const model = m.model;
    if (!(model instanceof MatchingModel))
      throw new UserError(`export: ${m.task.name} is not a matching model`);
    const head = model.opts.head;
    const state = new StateReader(model.stateDict());
    const encoder = encoderGraph(g, model.encoder, state.child('encoder'));
    const cross = head === 'cross';
    const a = textInputs(
      g,
      { ids: INPUT_IDS, mask: ATTENTION_MASK, typeIds: cross ? TOKEN_TYPE_IDS : undefined },
      'seq',
    );
    const u = encoder.encode(a, maskViews(g, a.mask), 'a').pooled();
    let raw: string; // [batch, 1]
    if (cross) raw = state.linear(g, u, 'scorer');
    else {
      const b = textInputs(g, { ids: INPUT_IDS_B, mask: ATTENTION_MASK_B }, 'seq_b');
      const v = encoder.encode(b, maskViews(g, b.mask), 'b').pooled();
      raw = g.scope('head', () => {
        if (head === 'cosine') {
          // matching.ts rowCosine: Σ u·v / (√(Σu² + 1e-8) · √(Σv² + 1e-8))
          const norm = (x: string) =>
            g.op('Sqrt', [
              g.op('Add', [reduce(g, 'ReduceSum', g.op('Mul', [x, x]), [1], true), g.scalar(1e-8)]),
            ]);
          const dot = reduce(g, 'ReduceSum', g.op('Mul', [u, v]), [1], true);
          return g.op('Div', [dot, g.op('Mul', [norm(u), norm(v)])]);
        }
        const features = g.op('Concat', [u, v, g.op('Abs', [g.op('Sub', [u, v])]), g.op('Mul', [u, v])], {
          axis: 1,
        });
        return state.linear(g, g.op('Relu', [state.linear(g, features, 'mlp')]), 'scorer');
      });
    }
    const rawScore = g.op('Squeeze', [raw, g.int64s([1], 'axes')]);
    let score = head === 'cosine' ? rawScore : g.op('Sigmoid', [rawScore]);
    const s = m.task.state() as MatchingState;
    if (s.mode === 'score') {
      const { min, max } = s.scoreRange;
      score = g.op('Add', [g.op('Mul', [score, g.scalar(max - min)]), g.scalar(min)]);
    }
    g.output(rawScore, 'float32', ['batch'], { as: 'raw_score' });
    g.output(score, 'float32', ['batch'], { as: 'score' });
  },

  /** Pointwise 0/1 dev data: accuracy of score ≥ 0.5 (the task's own decision rule). */
  devCheck(examples: unknown[]): DevCheck | undefined {
    const rows = examples as PointwiseExample[];
    if (!rows.every((e) => e.score === 0 || e.score === 1)) return undefined;
    const decide = (p: unknown) => ((p as MatchingPrediction).score >= 0.5 ? 1 : 0);
    return {
      metric: 'accuracy',
      score: (predictions) =>
        predictions.filter((p, i) => decide(p) === rows[i].score).length / Math.max(1, rows.length),
      agree: (x, y) => decide(x) === decide(y),
    };
  },
};
