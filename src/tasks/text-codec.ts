/**
 * Text → token ids, the same way at training, evaluation, prediction and deployment: a tokenizer, a
 * vocabulary and a length limit. Special tokens written literally in text (`[UNK]` from augmentation,
 * `[MASK]`) stay single tokens.
 */
import path from 'node:path';
import type { TokenizerType } from '../config/run-config.js';
import { AUTO_SAMPLE_TEXTS, settleAutoTokenizer } from '../data/tokenizers/auto.js';
import { createTokenizer } from '../data/tokenizers/create-tokenizer.js';
import type { OffsetTokenizer, TokenizerSpec } from '../data/tokenizers/tokenizer.js';
import { tokenizeKeepingSpecials } from '../data/tokenizers/keep-specials.js';
import { WordPieceTokenizer, wordPieceOptions } from '../data/tokenizers/wordpiece.js';
import type { NgramSpec } from '../data/ngram-hash.js';
import { pairIds, textIds, type TextIdsSpec } from '../data/text-ids.js';
import { SPECIAL_TOKENS, TokenCounter, Vocab } from '../data/vocab.js';

export interface CodecSpec {
  tokenizer: TokenizerSpec & { type: TokenizerType };
  maxLen: number;
  /** Wrap in [CLS] … [SEP] (the Transformer's input form). */
  specials: boolean;
  /** A BOW's hashed n-grams (ngram-hash.ts), appended to the ids. */
  ngrams?: NgramSpec;
}

export interface CodecFitOptions {
  minFreq: number;
  maxSize: number;
  /** A vocab.txt to use as it is instead of counting one. */
  vocabFile?: string;
}

/** Takes the training texts one at a time; `finish` returns the fitted codec. */
export interface CodecFitter {
  /** Counts a text's tokens; `onTokens` gets them too, once an "auto" tokenizer is settled. */
  add(text: string, onTokens?: (tokens: string[]) => void): void;
  /**
   * The tokens of a text that is not counted (a training text when the vocabulary is counted on other
   * texts), as the fitted codec will cut it. Settles an "auto" tokenizer on the texts added so far: call it
   * only after the last `add`.
   */
  tokens(text: string): string[];
  finish(): TextCodec;
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
  static fit(spec: CodecSpec, texts: Iterable<string>, options: CodecFitOptions): TextCodec {
    const fitter = TextCodec.fitter(spec, options);
    for (const text of texts) fitter.add(text);
    return fitter.finish();
  }

  /**
   * TextCodec.fit one text at a time, holding only the token counts (and, for an "auto" tokenizer, the
   * texts that choose it), so that a streamed data set gives the codec the in-memory one would.
   */
  static fitter(spec: CodecSpec, { minFreq, maxSize, vocabFile }: CodecFitOptions): CodecFitter {
    const counter = new TokenCounter();
    let sample: { text: string; onTokens?: (tokens: string[]) => void }[] | undefined =
      spec.tokenizer.type === 'auto' ? [] : undefined;
    // Cuts texts as the fitted codec will: a given vocabulary (WordPiece's pieces depend on it) or none.
    let probe: TextCodec | undefined;
    const tokenize = (text: string) => {
      probe ??= new TextCodec(spec, vocabFile ? Vocab.load(vocabFile) : new Vocab([...SPECIAL_TOKENS]));
      return probe.tokenize(text);
    };
    const count = (text: string, onTokens?: (tokens: string[]) => void) => {
      if (vocabFile && !onTokens) return;
      const tokens = tokenize(text);
      if (!vocabFile) counter.add(tokens);
      onTokens?.(tokens);
    };
    const settle = () => {
      if (!sample) return;
      settleAutoTokenizer(
        spec.tokenizer,
        sample.map((s) => s.text),
      );
      const held = sample;
      sample = undefined;
      held.forEach((s) => count(s.text, s.onTokens));
    };
    return {
      add(text, onTokens) {
        if (!sample) return count(text, onTokens);
        sample.push({ text, onTokens });
        if (sample.length >= AUTO_SAMPLE_TEXTS) settle();
      },
      tokens(text) {
        settle();
        return tokenize(text);
      },
      finish() {
        settle();
        if (vocabFile) return new TextCodec(spec, probe?.vocab ?? Vocab.load(vocabFile));
        return new TextCodec(spec, counter.vocab({ minFreq, maxSize }));
      },
    };
  }

  save(dir: string): void {
    this.vocab.save(path.join(dir, 'vocab.txt'));
  }

  static load(spec: CodecSpec, dir: string): TextCodec {
    return new TextCodec(spec, Vocab.load(path.join(dir, 'vocab.txt')));
  }
}
