/**
 * A predictor for the service's tests whose answer is decidable by hand: "pos" when the text contains
 * "good", with probability 0.8; it records every batch, and can be held (gate) to build up a queue.
 */
import type { PredictInput, PredictOutput, Predictor } from '../../src/deploy/predictor.js';

export class FakePredictor implements Predictor {
  readonly labels = ['neg', 'pos'];
  readonly batches: PredictInput[][] = [];
  closed = false;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};

  constructor(readonly task = 'text_classification') {}

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }

  release(): void {
    this.open();
  }

  async predictBatch(inputs: PredictInput[]): Promise<PredictOutput[]> {
    this.batches.push(inputs);
    await this.gate;
    return inputs.map((x) => {
      const pos = (x.text + (x.textB ?? '')).includes('good');
      return { labels: [pos ? 'pos' : 'neg'], probabilities: pos ? [0.2, 0.8] : [0.8, 0.2] };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
