/**
 * Preset net → its ONNX graph builder. The structure (pooling kinds, kernel widths, layer counts) comes from
 * the rebuilt encoder's options, which the model directory's config fixed; the weights come from the state
 * dict under the encoder's prefix.
 */
import { BowEncoder } from '../../nets/bow.js';
import { CnnEncoder } from '../../nets/cnn.js';
import type { TextEncoder } from '../../nets/encoder.js';
import { RnnEncoder } from '../../nets/rnn-encoder.js';
import { TransformerEncoder } from '../../nets/transformer.js';
import { UserError } from '../../util/errors.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { bowGraph } from './bow.js';
import { cnnGraph } from './cnn.js';
import type { EncoderGraph } from './encoder-graph.js';
import { rnnGraph } from './rnn.js';
import { transformerGraph } from './transformer.js';
import type { StateReader } from './weights.js';

export function encoderGraph(g: OnnxGraphBuilder, encoder: TextEncoder, w: StateReader): EncoderGraph {
  if (encoder instanceof BowEncoder) return bowGraph(g, encoder, w);
  if (encoder instanceof CnnEncoder) return cnnGraph(g, encoder, w);
  if (encoder instanceof RnnEncoder) return rnnGraph(g, encoder, w);
  if (encoder instanceof TransformerEncoder) return transformerGraph(g, encoder, w);
  throw new UserError(`export: no ONNX exporter for the encoder ${encoder.constructor.name}`);
}
