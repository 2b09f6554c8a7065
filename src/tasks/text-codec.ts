/**
 * Text → token ids, the same way at training, evaluation, prediction and deployment: a tokenizer, a
 * vocabulary and a length limit. Special tokens written literally in text (`[UNK]` from augmentation,
 * `[MASK]`) stay single tokens.
 */
import path from 'node:path';
import type { TokenizerType } from '../config/run-config.js';
import { settleAutoTokenizer } from '../data/tokenizers/auto.js';
import { createTokenizer } from '../data/tokenizers/create-tokenizer.js';
import type { OffsetTokenizer, TokenizerSpec } from '../data/tokenizers/tokenizer.js';
import { tokenizeKeepingSpecials } from '../data/tokenizers/keep-specials.js';
import { WordPieceTokenizer, wordPieceOptions } from '../data/tokenizers/wordpiece.js';
import type { NgramSpec } from '../data/ngram-hash.js';
import { pairIds, textIds, type TextIdsSpec } from '../data/text-ids.js';
import { SPECIAL_TOKENS, Vocab } from '../data/vocab.js';

export interface CodecSpec {
  tokenizer: TokenizerSpec & { type: TokenizerType };
  maxLen: number;
  /** Wrap in [CLS] … [SEP] (the Transformer's input form). */
  specials: boolean;
  /** A BOW's hashed n-grams (ngram-hash.ts), appended to the ids. */
  ngrams?: NgramSpec;
}

export interface EncodedText {
  ids: number[];
  typeIds?: number[];
}

export class TextCodec {
  private readonly tokenizer: OffsetTokenizer;
  private readonly idsSpec: TextIdsSpec;

  constructor(
    readonly spec: CodecSpec,
    readonly vocab: Vocab,
  ) {
    // WordPiece splits with the model's own vocabulary; the others only segment.
    this.tokenizer =
      spec.tokenizer.type === 'wordpiece'
        ? new WordPieceTokenizer(vocab, wordPieceOptions(spec.tokenizer))
        : createTokenizer(spec.tokenizer);
    this.idsSpec = {
      tokenize: (text) => this.tokenize(text),
      tokenizerType: spec.tokenizer.type,
      maxLen: spec.maxLen,
      specials: spec.specials,
      ngrams: spec.ngrams,
    };
  }

  tokenize(text: string): string[] {
    return tokenizeKeepingSpecials(this.tokenizer, text);
  }

  /** Ids of one text; never empty (an empty text becomes [UNK]) so every sequence has a length ≥ 1. */
  encode(text: string): EncodedText {
    return { ids: textIds(this.vocab, this.idsSpec, text) };
  }

  /** `[CLS] a [SEP] b [SEP]` with segment ids (Transformer pair input). */
  encodePair(a: string, b: string): EncodedText {
    return pairIds(this.vocab, this.idsSpec, a, b);
  }

  /** Builds the vocabulary from training texts (or loads the given vocab.txt); settles an "auto" tokenizer. */
  static fit(
    spec: CodecSpec,
    texts: Iterable<string>,
    { minFreq, maxSize, vocabFile }: { minFreq: number; maxSize: number; vocabFile?: string },
  ): TextCodec {
    const all = [...texts];
    settleAutoTokenizer(spec.tokenizer, all);
    if (vocabFile) return new TextCodec(spec, Vocab.load(vocabFile));
    const probe = new TextCodec(spec, new Vocab([...SPECIAL_TOKENS]));
    const stream = (function* () {
      for (const t of all) yield probe.tokenize(t);
    })();
    return new TextCodec(spec, Vocab.build(stream, { minFreq, maxSize }));
  }

  save(dir: string): void {
    this.vocab.save(path.join(dir, 'vocab.txt'));
  }

  static load(spec: CodecSpec, dir: string): TextCodec {
    return new TextCodec(spec, Vocab.load(path.join(dir, 'vocab.txt')));
  }
}
