/**
 * Text → token ids, the same way at training, evaluation, prediction and deployment: a tokenizer, a
 * vocabulary and a length limit. Special tokens written literally in text (`[UNK]` from augmentation,
 * `[MASK]`) stay single tokens.
 */
import path from 'node:path';
import { createTokenizer, type OffsetTokenizer, type TokenizerSpec } from '../data/tokenizers/tokenizer.js';
import { tokenizeKeepingSpecials } from '../data/tokenizers/keep-specials.js';
import { WordPieceTokenizer } from '../data/tokenizers/wordpiece.js';
import { SPECIAL_TOKENS, Vocab } from '../data/vocab.js';

export interface CodecSpec {
  tokenizer: TokenizerSpec & { type: 'char' | 'jieba' | 'whitespace' | 'wordpiece' };
  maxLen: number;
  /** Wrap in [CLS] … [SEP] (the Transformer's input form). */
  specials: boolean;
}

export interface EncodedText {
  ids: number[];
  typeIds?: number[];
}

/** Tokenisers whose tokens never span ASCII whitespace, so a text can be cut there (leadingTokens). */
const CUT_AT_SPACE: ReadonlySet<string> = new Set(['char', 'whitespace']);
/** First guess at how many characters hold a token (English words with their space; CJK needs fewer). */
const CHARS_PER_TOKEN = 8;
const ASCII_SPACE = /[ \t\n\r]/g;

/** The index just past the first ASCII space, tab or newline at or after `from`, or -1. */
function afterSpace(text: string, from: number): number {
  ASCII_SPACE.lastIndex = from;
  const match = ASCII_SPACE.exec(text);
  return match ? match.index + 1 : -1;
}

export class TextCodec {
  private readonly tokenizer: OffsetTokenizer;

  constructor(
    readonly spec: CodecSpec,
    readonly vocab: Vocab,
  ) {
    // WordPiece splits with the model's own vocabulary; the others only segment.
    this.tokenizer =
      spec.tokenizer.type === 'wordpiece'
        ? new WordPieceTokenizer(vocab, { lowercase: spec.tokenizer.lowercase ?? true })
        : createTokenizer(spec.tokenizer);
  }

  tokenize(text: string): string[] {
    return tokenizeKeepingSpecials(this.tokenizer, text);
  }

  /** Ids of one text; never empty (an empty text becomes [UNK]) so every sequence has a length ≥ 1. */
  encode(text: string): EncodedText {
    let tokens = this.leadingTokens(text, this.spec.maxLen - (this.spec.specials ? 2 : 0));
    if (tokens.length === 0) tokens = [this.vocab.token(this.vocab.unkId)];
    const ids = this.vocab.encode(tokens, {
      maxLen: this.spec.maxLen,
      addCls: this.spec.specials,
      addSep: this.spec.specials,
    });
    return { ids };
  }

  /**
   * The first `count` tokens of `text` or more (all of them when it has fewer), without tokenising the
   * rest of a long text (an email of thousands of words for a max_len of 256). The text is cut just after
   * an ASCII space, tab or newline: the char and whitespace tokenisers end every token there and no
   * special token spans it, so the tokens of the part before the cut are exactly the first tokens of the
   * whole text. Other tokenisers (jieba's segmentation, wordpiece) read the whole text.
   */
  private leadingTokens(text: string, count: number): string[] {
    if (count >= 1 && CUT_AT_SPACE.has(this.spec.tokenizer.type)) {
      for (let from = count * CHARS_PER_TOKEN; from < text.length; from *= 2) {
        const cut = afterSpace(text, from);
        if (cut < 0) break;
        const tokens = this.tokenize(text.slice(0, cut));
        if (tokens.length >= count || cut === text.length) return tokens;
      }
    }
    return this.tokenize(text);
  }

  /** `[CLS] a [SEP] b [SEP]` with segment ids (Transformer pair input). */
  encodePair(a: string, b: string): EncodedText {
    const ta = this.tokenize(a);
    const tb = this.tokenize(b);
    return this.vocab.encodePair(ta.length ? ta : [this.vocab.token(this.vocab.unkId)], tb, {
      maxLen: this.spec.maxLen,
    });
  }

  /** Builds the vocabulary from training texts (or loads the given vocab.txt). */
  static fit(
    spec: CodecSpec,
    texts: Iterable<string>,
    { minFreq, maxSize, vocabFile }: { minFreq: number; maxSize: number; vocabFile?: string },
  ): TextCodec {
    if (vocabFile) return new TextCodec(spec, Vocab.load(vocabFile));
    const probe = new TextCodec(spec, new Vocab([...SPECIAL_TOKENS]));
    const stream = (function* () {
      for (const t of texts) yield probe.tokenize(t);
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
