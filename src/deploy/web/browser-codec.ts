/**
 * Text → the exported graph's feeds, in a browser: the same tokenisers (char, whitespace, words, wordpiece), the
 * same Vocab and the same padding as TextCodec and classification-io.ts on the server, imported from the
 * same files so the two cannot drift apart. Only what needs Node is left out: jieba (a native addon) and
 * reading files (the page fetches vocab.txt and passes its text).
 */
import { CharTokenizer } from '../../data/tokenizers/char.js';
import { tokenizeKeepingSpecials } from '../../data/tokenizers/keep-specials.js';
import type { Tokenizer } from '../../data/tokenizers/tokenizer.js';
import { WhitespaceTokenizer } from '../../data/tokenizers/whitespace.js';
import {
  WordPieceTokenizer,
  wordPieceOptions,
  type WordPieceSwitches,
} from '../../data/tokenizers/wordpiece.js';
import { WordsTokenizer } from '../../data/tokenizers/words.js';
import type { NgramSpec } from '../../data/ngram-hash.js';
import { pairIds, textIds, type TextIdsSpec } from '../../data/text-ids.js';
import { Vocab } from '../../data/vocab.js';
import type { TensorValue } from '../onnx/index.js';
import {
  ATTENTION_MASK,
  ATTENTION_MASK_B,
  INPUT_IDS,
  INPUT_IDS_B,
  NUMERIC_FEATURES,
  padIds,
  TOKEN_TYPE_IDS,
} from '../export/io.js';

/** What the page needs to know about a model (served as /demo/models/:name/manifest.json). */
export interface BrowserModelSpec {
  name: string;
  task: string;
  net: string;
  /** dataset.tokenizer's switches (the wordpiece ones are the checkpoint's, resolved at training). */
  tokenizer: WordPieceSwitches & { type: string; lowercase: boolean };
  maxLen: number;
  /** [CLS] … [SEP] around the ids (the Transformer). */
  specials: boolean;
  /** A BOW's hashed n-grams (ngram-hash.ts), appended to the ids. */
  ngrams?: NgramSpec;
  labels: string[];
  /** Multi-label decision threshold. */
  threshold: number;
  /** Names of the graph's inputs, from the export manifest. */
  inputs: string[];
  /** Numeric features the graph expects (the page feeds 0, their training-time default). */
  numericFeatures: string[];
  int8: boolean;
}

/** The tokenisers that run without Node. */
export const BROWSER_TOKENIZERS = ['char', 'whitespace', 'words', 'wordpiece'];

/** vocab.txt text → Vocab, read exactly as Vocab.load reads the file. */
export function parseVocab(text: string, source = 'vocab.txt'): Vocab {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return new Vocab(lines, source);
}

export class BrowserCodec {
  private readonly tokenizer: Tokenizer;
  private readonly idsSpec: TextIdsSpec;

  constructor(
    readonly spec: BrowserModelSpec,
    readonly vocab: Vocab,
  ) {
    const lowercase = spec.tokenizer.lowercase;
    switch (spec.tokenizer.type) {
      case 'char':
        this.tokenizer = new CharTokenizer({ lowercase });
        break;
      case 'whitespace':
        this.tokenizer = new WhitespaceTokenizer({ lowercase });
        break;
      case 'words':
        this.tokenizer = new WordsTokenizer({ lowercase });
        break;
      case 'wordpiece':
        this.tokenizer = new WordPieceTokenizer(vocab, wordPieceOptions(spec.tokenizer));
        break;
      default:
        throw new Error(`the ${spec.tokenizer.type} tokenizer does not run in a browser`);
    }
    this.idsSpec = {
      tokenize: (text) => this.tokenize(text),
      tokenizerType: spec.tokenizer.type,
      maxLen: spec.maxLen,
      specials: spec.specials,
      ngrams: spec.ngrams,
    };
  }

  /** TextCodec.tokenize: special tokens written in the text stay whole. */
  tokenize(text: string): string[] {
    return tokenizeKeepingSpecials(this.tokenizer, text);
  }

  /** TextCodec.encode (text-ids.ts). */
  encode(text: string): number[] {
    return textIds(this.vocab, this.idsSpec, text);
  }

  /** TextCodec.encodePair (text-ids.ts). */
  encodePair(a: string, b: string): { ids: number[]; typeIds: number[] } {
    return pairIds(this.vocab, this.idsSpec, a, b);
  }

  /** Whether the model takes two texts (the page then shows a second text box). */
  get isPair(): boolean {
    return this.spec.task === 'text_pair_classification';
  }

  /** One input's feeds, as classification-io.ts builds them for a batch. */
  feeds(text: string, textB?: string): Record<string, TensorValue> {
    const out: Record<string, TensorValue> = {};
    const names = new Set(this.spec.inputs);
    const padId = this.vocab.padId;
    if (names.has(TOKEN_TYPE_IDS) && this.isPair) {
      const e = this.encodePair(text, textB ?? '');
      const p = padIds([e.ids], padId, [e.typeIds]);
      Object.assign(out, { [INPUT_IDS]: p.ids, [ATTENTION_MASK]: p.mask, [TOKEN_TYPE_IDS]: p.typeIds! });
    } else {
      // A Hugging Face-layout export (export --layout hf) takes token_type_ids for one text too: zeros.
      const a = padIds([this.encode(text)], padId, names.has(TOKEN_TYPE_IDS) ? [undefined] : undefined);
      Object.assign(out, { [INPUT_IDS]: a.ids, [ATTENTION_MASK]: a.mask });
      if (a.typeIds) out[TOKEN_TYPE_IDS] = a.typeIds;
      if (names.has(INPUT_IDS_B)) {
        const b = padIds([this.encode(textB ?? '')], padId);
        Object.assign(out, { [INPUT_IDS_B]: b.ids, [ATTENTION_MASK_B]: b.mask });
      }
    }
    if (names.has(NUMERIC_FEATURES)) {
      const n = this.spec.numericFeatures.length;
      out[NUMERIC_FEATURES] = { data: new Float32Array(n), dims: [1, n] };
    }
    return out;
  }

  /** Probabilities → predicted labels, as the server decides them. */
  decide(probabilities: number[]): string[] {
    const labels = this.spec.labels;
    if (this.spec.task !== 'multi_label_classification') {
      let best = 0;
      for (let i = 1; i < probabilities.length; i++) if (probabilities[i] > probabilities[best]) best = i;
      return [labels[best]];
    }
    return probabilities.flatMap((v, i) => (v >= this.spec.threshold ? [labels[i]] : []));
  }
}
