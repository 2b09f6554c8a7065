/**
 * The character CNN of a word (src/nets/char-cnn.ts) as ONNX: char_ids [batch, seq, chars] → Gather of
 * `embedding.weight` → one Conv over each word's characters (as [batch·seq, E, chars]) → ReduceMax over the
 * characters → Tanh → [batch, seq, filters]. Weights: `char_cnn.embedding.weight`, `char_cnn.conv.weight|bias`
 * ([out, in, kernel], ONNX Conv's layout as is).
 */
import type { CharCnn } from '../../nets/char-cnn.js';
import type { OnnxGraphBuilder } from '../onnx/index.js';
import { dimOf, reduce, type TextValues } from './graph-ops.js';
import type { StateReader } from './weights.js';

export function charCnnGraph(g: OnnxGraphBuilder, cnn: CharCnn, w: StateReader, text: TextValues): string {
  const { dim, filters, width } = cnn.options;
  return g.scope('char_cnn', () => {
    const emb = g.gather(w.tensor(g, 'embedding.weight'), text.charIds!); // [batch, seq, chars, E]
    const wordsShape = g.op(
      'Concat',
      [g.int64s([-1], 'words'), dimOf(g, text.charIds!, 2), g.int64s([dim], 'dim')],
      { axis: 0 },
    );
    const perWord = g.op('Reshape', [emb, wordsShape]); // [batch·seq, chars, E]
    const channels = g.op('Transpose', [perWord], { perm: [0, 2, 1] });
    const pad = (width - 1) / 2;
    const windows = g.op('Conv', [channels, w.tensor(g, 'conv.weight'), w.tensor(g, 'conv.bias')], {
      pads: [pad, pad],
    }); // [batch·seq, F, chars]
    const words = g.op('Tanh', [reduce(g, 'ReduceMax', windows, [2], false)]); // [batch·seq, F]
    const shape = g.op('Concat', [g.op('Shape', [text.ids]), g.int64s([filters], 'filters')], { axis: 0 });
    return g.op('Reshape', [words, shape]);
  });
}

/** Word embeddings [batch, seq, E] with the char CNN's word vectors appended when the encoder has one. */
export function withCharGraph(
  g: OnnxGraphBuilder,
  words: string,
  cnn: CharCnn | undefined,
  w: StateReader,
  text: TextValues,
): string {
  if (!cnn) return words;
  if (!text.charIds) throw new Error('export: this encoder reads character ids (char_ids)');
  return g.op('Concat', [words, charCnnGraph(g, cnn, w.child('char_cnn'), text)], { axis: 2 });
}
