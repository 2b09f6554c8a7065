/**
 * LSTM and GRU layers (multi-layer, optionally bidirectional, batch-first), with PyTorch's parameter
 * names (`weight_ih_l0`, `bias_hh_l1_reverse`, …) and initialisation U(−1/√H, 1/√H).
 */
import { rnn, type RnnResult } from '../functional.js';
import type { Tensor } from '../tensor.js';
import { uniformFanIn } from './init.js';
import { Module } from './module.js';

export interface RnnOptions {
  numLayers?: number;
  bidirectional?: boolean;
  /** Dropout between stacked layers (training only). */
  dropout?: number;
}

abstract class RecurrentLayer extends Module {
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly dropoutP: number;
  private readonly ordered: Tensor[] = [];

  protected constructor(
    private readonly mode: 'lstm' | 'gru',
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: RnnOptions,
  ) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.bidirectional = opts.bidirectional ?? false;
    this.dropoutP = opts.dropout ?? 0;
    const gates = mode === 'lstm' ? 4 : 3;
    const dirs = this.bidirectional ? 2 : 1;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const layerIn = layer === 0 ? inputSize : hiddenSize * dirs;
      for (let d = 0; d < dirs; d++) {
        const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        const g = gates * hiddenSize;
        this.ordered.push(
          this.param(`weight_ih${suffix}`, uniformFanIn([g, layerIn], hiddenSize)),
          this.param(`weight_hh${suffix}`, uniformFanIn([g, hiddenSize], hiddenSize)),
          this.param(`bias_ih${suffix}`, uniformFanIn([g], hiddenSize)),
          this.param(`bias_hh${suffix}`, uniformFanIn([g], hiddenSize)),
        );
      }
    }
  }

  get outputSize(): number {
    return this.hiddenSize * (this.bidirectional ? 2 : 1);
  }

  /** x [batch, time, inputSize]; lengths int64 [batch] masks padding out of the recurrence. */
  forward(x: Tensor, lengths?: Tensor): RnnResult {
    return rnn(this.mode, x, this.ordered, {
      lengths,
      numLayers: this.numLayers,
      bidirectional: this.bidirectional,
      dropout: this.dropoutP,
      training: this.training,
    });
  }
}

export class LSTM extends RecurrentLayer {
  constructor(inputSize: number, hiddenSize: number, opts: RnnOptions = {}) {
    super('lstm', inputSize, hiddenSize, opts);
  }
}

export class GRU extends RecurrentLayer {
  constructor(inputSize: number, hiddenSize: number, opts: RnnOptions = {}) {
    super('gru', inputSize, hiddenSize, opts);
  }
}
