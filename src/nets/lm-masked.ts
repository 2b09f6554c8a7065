/**
 * BERT's masked-language-model pre-training model: the Transformer encoder of transformer.ts under
 * `bert.` plus Hugging Face's `BertOnlyMLMHead` under `cls.predictions.` (dense → GELU → LayerNorm →
 * the word embedding transposed + a bias). The names are exactly those of `BertForMaskedLM`, so the
 * weights saved from it load back as a `pretrained_dir` (loadPretrained strips `bert.` and ignores
 * `cls.*`) and into Hugging Face transformers.
 */
import { zeros } from '../engine/create.js';
import * as F from '../engine/functional.js';
import { LayerNorm } from '../engine/nn/layer-norm.js';
import { Linear } from '../engine/nn/linear.js';
import { Module, ModuleDict } from '../engine/nn/module.js';
import { noGrad } from '../engine/scope.js';
import type { Tensor } from '../engine/tensor.js';
import type { EncoderInput } from './encoder.js';
import type { TransformerEncoder } from './transformer.js';

class MlmPredictions extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly bias: Tensor;

  constructor(hidden: number, vocabSize: number, eps: number) {
    super();
    const transform = this.child('transform', new ModuleDict());
    this.dense = transform.add('dense', new Linear(hidden, hidden));
    noGrad(() => {
      this.dense.weight.normal_(0, 0.02);
      this.dense.bias!.fill_(0);
    });
    this.norm = transform.add('LayerNorm', new LayerNorm(hidden, eps));
    this.bias = this.param('bias', zeros([vocabSize]));
  }
}

export class MaskedLanguageModel extends Module {
  readonly bert: TransformerEncoder;
  readonly predictions: MlmPredictions;

  constructor(encoder: TransformerEncoder) {
    super();
    this.bert = this.child('bert', encoder);
    const o = encoder.options;
    this.predictions = this.child('cls', new ModuleDict()).add(
      'predictions',
      new MlmPredictions(o.hiddenSize, o.vocabSize, o.layerNormEps),
    );
  }

  /**
   * Vocabulary logits [N, V] at the given flat positions (row-major indices into [B, T], int64 [N]):
   * only the predicted positions go through the head, which is most of the cost with a large vocabulary.
   */
  logitsAt(input: EncoderInput, positions: Tensor): Tensor {
    const sequence = this.bert.encode(input).sequence;
    const [batch, time, hidden] = sequence.shape;
    const picked = sequence.reshape(batch * time, hidden).indexSelect(0, positions);
    const p = this.predictions;
    const h = p.norm.forward(p.dense.forward(picked).gelu());
    return F.linear(h, this.bert.embeddings.word.weight, p.bias);
  }
}
