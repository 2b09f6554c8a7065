/**
 * Given tokens (one tag each) → the id rows an encoder reads, and back.
 *
 * With the char, jieba and whitespace tokenizers the given tokens are the units: each maps to exactly one
 * vocabulary id (lowercased when the tokenizer lowercases), never re-tokenised, so the file's
 * segmentation is the model's. A WordPiece vocabulary may cut a token into pieces: the token's tag
 * belongs to its first piece and the other pieces are ignored by the loss (IGNORE_INDEX), the usual
 * BERT recipe. The Transformer's [CLS] … [SEP] wrap every row, their positions ignored too.
 *
 * A sentence longer than max_len is not cut: it is carried over several rows (windows) of whole tokens,
 * and the rows' tags are joined again, so every token of every sentence is tagged and scored.
 *
 * With character features (`charWordLen`) each row also carries every position's word as character ids
 * (src/data/char-vocab.ts), the char vocabulary being built with the word vocabulary and saved beside it.
 */
import path from 'node:path';
import { AUTO_SAMPLE_TEXTS, settleAutoTokenizer } from '../data/tokenizers/auto.js';
import { basicTokenize } from '../data/tokenizers/bert-basic.js';
import type { TokenizerType } from '../config/run-config.js';
import { createTokenizer } from '../data/tokenizers/create-tokenizer.js';
import type { TokenizerSpec } from '../data/tokenizers/tokenizer.js';
import { WordPieceTokenizer, wordPieceOptions } from '../data/tokenizers/wordpiece.js';
import { wordCharIds, wordChars } from '../data/char-vocab.js';
import { SPECIAL_TOKENS, TokenCounter, Vocab } from '../data/vocab.js';
import { UserError } from '../util/errors.js';

/** The loss ignores targets with this value (torch's cross-entropy default). */
export const IGNORE_INDEX = -100;

/** The vocabulary's limits, and the vocab.txt that replaces counting one, if any. */
export interface AlignerFitOptions {
  minFreq: number;
  maxSize: number;
  vocabFile?: string;
}

export interface AlignerSpec {
  tokenizer: TokenizerSpec & { type: TokenizerType };
  /** Longest row in ids, [CLS]/[SEP] included. */
  maxLen: number;
  /** Wrap rows in [CLS] … [SEP] (the Transformer's input form). */
  specials: boolean;
  /** Characters kept per word when the model reads character features (model.char_features.max_word_len). */
  charWordLen?: number;
}

const CHAR_VOCAB_FILE = 'char_vocab.txt';

/** One encoder input row: a window of whole tokens of one sentence. */
export interface SequenceRow {
  ids: number[];
  /** Position in `ids` of each token's first piece. */
  starts: number[];
  /** Character ids of the word at each position of `ids` (charWordLen each), with character features. */
  chars?: number[][];
  /** Gold tag id of each token (labelled data only). */
  tags?: number[];
  /** Whether the row begins / ends its sentence (a window of a long sentence may start or stop inside an entity). */
  first: boolean;
  last: boolean;
}

/** A raw text cut into units, with each unit's [start, end) in the text. */
export interface TextUnits {
  tokens: string[];
  spans: Array<[number, number]>;
}

export class TokenAligner {
  private readonly wordpiece?: WordPieceTokenizer;
  private readonly lowercase: boolean;

  constructor(
    readonly spec: AlignerSpec,
    readonly vocab: Vocab,
    readonly charVocab?: Vocab,
  ) {
    this.lowercase = spec.tokenizer.lowercase ?? true;
    if (spec.tokenizer.type === 'wordpiece') {
      this.wordpiece = new WordPieceTokenizer(vocab, wordPieceOptions(spec.tokenizer));
    }
    if (spec.charWordLen && !charVocab)
      throw new Error('token alignment: character features need a char vocabulary');
    if (spec.maxLen < (spec.specials ? 3 : 1)) {
      throw new UserError(`dataset.max_len: ${spec.maxLen} leaves no room for a token`);
    }
  }

  /** A given token as the model sees it (char/jieba/whitespace): lowercased when configured. */
  normalise(token: string): string {
    if (SPECIAL_TOKENS.includes(token) || !this.lowercase) return token;
    return token.toLowerCase();
  }

  /** The ids of one given token: one id, or its WordPiece pieces (at least one, [UNK] if nothing is left). */
  pieceIds(token: string): number[] {
    if (!this.wordpiece || SPECIAL_TOKENS.includes(token)) return [this.vocab.id(this.normalise(token))];
    const pieces = this.wordpiece.tokenize(token);
    return pieces.length ? pieces.map((p) => this.vocab.id(p)) : [this.vocab.unkId];
  }

  /** The rows of one sentence: windows of whole tokens that fit max_len. */
  rows(tokens: readonly string[], tags?: readonly number[]): SequenceRow[] {
    const room = this.spec.maxLen - (this.spec.specials ? 2 : 0);
    const offset = this.spec.specials ? 1 : 0;
    const rows: SequenceRow[] = [];
    const empty = (): SequenceRow => ({
      ids: [],
      starts: [],
      chars: this.charVocab ? [] : undefined,
      tags: tags ? [] : undefined,
      first: rows.length === 0,
      last: false,
    });
    let current = empty();
    const flush = () => {
      if (current.starts.length === 0) return;
      if (this.spec.specials) current.ids = [this.cls(), ...current.ids, this.sep()];
      if (this.spec.specials && current.chars)
        current.chars = [this.noChars(), ...current.chars, this.noChars()];
      rows.push(current);
      current = empty();
    };
    tokens.forEach((token, i) => {
      // Only a token's first piece is scored, so a token longer than a whole row keeps the pieces that fit.
      const pieces = this.pieceIds(token).slice(0, room);
      if (current.ids.length + pieces.length > room) flush();
      current.starts.push(current.ids.length + offset);
      current.ids.push(...pieces);
      if (current.chars) {
        const chars = this.charIds(token);
        current.chars.push(...pieces.map(() => chars));
      }
      if (tags) current.tags!.push(tags[i]);
    });
    flush();
    if (rows.length > 0) rows[rows.length - 1].last = true; // no rows (and no tags) for no tokens
    return rows;
  }

  /** A word's character ids (its original spelling: case is evidence about an unknown word). */
  charIds(token: string): number[] {
    return wordCharIds(token, this.charVocab!, this.spec.charWordLen!);
  }

  private noChars(): number[] {
    return new Array<number>(this.spec.charWordLen!).fill(this.charVocab!.padId);
  }

  private cls(): number {
    if (this.vocab.clsId === undefined)
      throw new UserError('vocab: has no [CLS] token, which the Transformer needs');
    return this.vocab.clsId;
  }

  private sep(): number {
    if (this.vocab.sepId === undefined)
      throw new UserError('vocab: has no [SEP] token, which the Transformer needs');
    return this.vocab.sepId;
  }

  /** Builds the vocabulary from the training tokens, or loads the given vocab.txt (required by WordPiece). */
  static fit(
    spec: AlignerSpec,
    sentences: Iterable<readonly string[]>,
    options: AlignerFitOptions,
  ): TokenAligner {
    const fitter = TokenAligner.fitter(spec, options);
    for (const tokens of sentences) fitter.add(tokens);
    return fitter.finish();
  }

  /**
   * TokenAligner.fit one sentence at a time, holding only token and character counts (and, for an "auto"
   * tokenizer, the sentences that choose it), so that a streamed data set gives the aligner the in-memory
   * one would.
   */
  static fitter(
    spec: AlignerSpec,
    { minFreq, maxSize, vocabFile }: AlignerFitOptions,
  ): { add(tokens: readonly string[]): void; finish(): TokenAligner } {
    if (!vocabFile && spec.tokenizer.type === 'wordpiece') {
      throw new UserError('dataset.tokenizer.vocab: the wordpiece tokenizer needs a vocab.txt');
    }
    const words = new TokenCounter();
    const chars = new TokenCounter();
    let probe: TokenAligner | undefined;
    const count = (tokens: readonly string[]) => {
      if (!vocabFile) {
        probe ??= new TokenAligner(spec, new Vocab([...SPECIAL_TOKENS]), new Vocab([...SPECIAL_TOKENS]));
        words.add(tokens.map((t) => probe!.normalise(t)));
      }
      if (spec.charWordLen) for (const w of tokens) chars.add(wordChars(w));
    };
    let sample: (readonly string[])[] | undefined = spec.tokenizer.type === 'auto' ? [] : undefined;
    const settle = () => {
      if (sample) {
        settleAutoTokenizer(
          spec.tokenizer,
          sample.map((tokens) => tokens.join(' ')),
        );
        const held = sample;
        sample = undefined;
        held.forEach(count);
      }
      if (spec.charWordLen) checkCharFeatures(spec.tokenizer.type);
    };
    if (!sample) settle();
    return {
      add(tokens) {
        if (!sample) return count(tokens);
        sample.push(tokens);
        if (sample.length >= AUTO_SAMPLE_TEXTS) settle();
      },
      finish() {
        if (sample) settle();
        const vocab = vocabFile ? Vocab.load(vocabFile) : words.vocab({ minFreq, maxSize });
        return new TokenAligner(spec, vocab, spec.charWordLen ? chars.vocab() : undefined);
      },
    };
  }

  save(dir: string): void {
    this.vocab.save(path.join(dir, 'vocab.txt'));
    this.charVocab?.save(path.join(dir, CHAR_VOCAB_FILE));
  }

  static load(spec: AlignerSpec, dir: string): TokenAligner {
    const chars = spec.charWordLen ? Vocab.load(path.join(dir, CHAR_VOCAB_FILE)) : undefined;
    return new TokenAligner(spec, Vocab.load(path.join(dir, 'vocab.txt')), chars);
  }
}

/** Character features describe words: a tokenizer without words (after `auto` has chosen) cannot have them. */
function checkCharFeatures(type: TokenizerType): void {
  if (type === 'char' || type === 'wordpiece') {
    throw new UserError(
      `model.char_features: the data was read with the ${type} tokenizer, which has no words to describe by ` +
        'their characters; drop char_features or set dataset.tokenizer.type to a word tokenizer',
    );
  }
}

/** Per-position targets of a row: the token's tag at its first piece, IGNORE_INDEX everywhere else. */
export function pieceTargets(row: SequenceRow, length = row.ids.length): number[] {
  const targets = new Array<number>(length).fill(IGNORE_INDEX);
  if (row.tags) row.starts.forEach((pos, w) => (targets[pos] = row.tags![w]));
  return targets;
}

/**
 * A raw line cut into units the way the tokenizer cuts text (characters for Chinese with the char
 * tokenizer, jieba words, whitespace-separated words, BERT basic-tokenizer words for WordPiece), each
 * with its span in the line, so tokens keep their original spelling.
 */
export function textUnits(text: string, tokenizer: AlignerSpec['tokenizer']): TextUnits {
  const lowercase = tokenizer.lowercase ?? true;
  const spans: Array<[number, number]> =
    tokenizer.type === 'wordpiece'
      ? basicTokenize(text, {
          lowercase,
          stripAccents: tokenizer.strip_accents,
          tokenizeChineseChars: tokenizer.tokenize_chinese_chars,
        }).map((w) => [w.starts[0], w.ends[w.ends.length - 1]])
      : createTokenizer({ type: tokenizer.type, lowercase }).tokenizeWithOffsets(text).offsets;
  return { tokens: spans.map(([s, e]) => text.slice(s, e)), spans };
}
