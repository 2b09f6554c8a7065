/**
 * Sequence labelling's graph (src/tasks/sequence-labeling.ts SequenceLabelerModel): encoder → per-token
 * states → linear `classifier.*` → `emissions` [batch, seq, tags], one score per tag at every input position
 * (a token's scores are at its first piece). With the CRF head the graph also outputs the CRF's parameters
 * `transitions` [tags, tags], `start_transitions` [tags], `end_transitions` [tags] (constants, so a client
 * holds everything in one file) and the tags are decoded by viterbi.ts; with the softmax head each token
 * takes its highest-scoring tag. With character features the graph also reads `char_ids` [batch, seq, chars].
 */
import {
  SequenceLabelerModel,
  type SequenceInput,
  type SequencePrediction,
} from '../../tasks/sequence-labeling.js';
import { UserError } from '../../util/errors.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { encoderGraph } from './encoders.js';
import type { DevCheck, ExportableModel, TaskExporter } from './task-exporter.js';
import { maskViews, textInputs } from './graph-ops.js';
import { ATTENTION_MASK, CHAR_IDS, INPUT_IDS } from './io.js';
import { StateReader } from './weights.js';

export const sequenceLabelingExporter: TaskExporter = {
  build(g: OnnxGraphBuilder, m: ExportableModel): void {
    const model = m.model;
    if (!(model instanceof SequenceLabelerModel)) {
      throw new UserError(`export: ${m.task.name} is not a sequence labelling model`);
    }
    const state = new StateReader(model.stateDict());
    const encoder = encoderGraph(g, model.encoder, state.child('encoder'));
    const text = textInputs(g, { ids: INPUT_IDS, mask: ATTENTION_MASK }, 'seq');
    const width = model.opts.charWordLen;
    if (width) text.charIds = g.input(CHAR_IDS, 'int64', ['batch', 'seq', width]);
    const sequence = encoder.encode(text, maskViews(g, text.mask), 'text').sequence();
    const tags = model.opts.numTags;
    g.output(state.linear(g, sequence, 'classifier'), 'float32', ['batch', 'seq', tags], { as: 'emissions' });
    if (model.crf) {
      g.output(state.tensor(g, 'crf.transitions'), 'float32', [tags, tags], { as: 'transitions' });
      g.output(state.tensor(g, 'crf.start_transitions'), 'float32', [tags], { as: 'start_transitions' });
      g.output(state.tensor(g, 'crf.end_transitions'), 'float32', [tags], { as: 'end_transitions' });
    }
  },

  /** Token accuracy: it is defined for every tag set, and tag agreement is what int8 can change. */
  devCheck(examples: unknown[]): DevCheck {
    const gold = (examples as SequenceInput[]).map((e) => e.tags ?? []);
    const tagsOf = (p: unknown) => (p as SequencePrediction).tags;
    return {
      metric: 'token_accuracy',
      score: (predictions) => {
        let right = 0;
        let total = 0;
        predictions.forEach((p, i) => {
          tagsOf(p).forEach((t, w) => (right += t === gold[i][w] ? 1 : 0));
          total += gold[i].length;
        });
        return right / Math.max(1, total);
      },
      agree: (a, b) => tagsOf(a).join(' ') === tagsOf(b).join(' '),
    };
  },
};
