import { existsSync, readFileSync } from 'node:fs';
import { writeFileDurably } from '../util/durable-write.js';
import { UserError } from '../util/errors.js';
import { readTokenizerJson } from '../config/tokenizer-json.js';

export const PAD = '[PAD]';
export const UNK = '[UNK]';
export const CLS = '[CLS]';
export const SEP = '[SEP]';
export const MASK = '[MASK]';
/** Vocabularies built from data put these first, so [PAD] is 0 and [UNK] is 1 in every such model. */
export const SPECIAL_TOKENS: readonly string[] = [PAD, UNK, CLS, SEP, MASK];

export interface BuildOptions {
  /** Tokens seen fewer times are left out (they map to [UNK]). Default 1. */
  minFreq?: number;
  /** Largest vocabulary size, special tokens included. Default unlimited. */
  maxSize?: number;
}

export interface EncodeOptions {
  /** Longest result, [CLS]/[SEP] included; longer token lists are cut at the end. */
  maxLen: number;
  addCls?: boolean;
  addSep?: boolean;
}

export interface EncodedPair {
  ids: number[];
  /** BERT segment ids: 0 for [CLS] a [SEP], 1 for b [SEP]. */
  typeIds: number[];
}

/**
 * Token counts, fed one text at a time (so a streamed data set counts its vocabulary without holding its
 * texts), and the vocabulary they give.
 */
export class TokenCounter {
  private readonly counts = new Map<string, number>();

  add(tokens: readonly string[]): void {
    for (const token of tokens) this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
  }

  /**
   * The frequent tokens after the special tokens. The order is frequency descending, then token
   * ascending (by UTF-16 code units, not locale), so a vocabulary depends only on the data.
   */
  vocab(options: BuildOptions = {}): Vocab {
    const minFreq = options.minFreq ?? 1;
    const maxSize = options.maxSize ?? Infinity;
    if (!(maxSize >= SPECIAL_TOKENS.length)) {
      throw new UserError(
        `vocab: max_size ${maxSize} is smaller than the ${SPECIAL_TOKENS.length} special tokens`,
      );
    }
    const specials = new Set(SPECIAL_TOKENS);
    const kept = [...this.counts]
      .filter(([token, count]) => count >= minFreq && !specials.has(token))
      .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, maxSize - SPECIAL_TOKENS.length)
      .map(([token]) => token);
    return new Vocab([...SPECIAL_TOKENS, ...kept], 'vocab');
  }
}

/**
 * Token ↔ id mapping, in vocab.txt order (id = line index). Ids of the special tokens are looked up by
 * name so a BERT vocab.txt works with its own ids; [PAD] and [UNK] must exist, [CLS]/[SEP]/[MASK] only
 * when something needs them.
 */
export class Vocab {
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;
  readonly maskId: number | undefined;
  private readonly ids = new Map<string, number>();

  /** `source` names where the tokens came from, for error messages. */
  constructor(
    private readonly tokenList: readonly string[],
    source = 'vocabulary',
  ) {
    // A duplicated line maps to its last id, as Hugging Face's load_vocab (and the fast tokenizer) build
    // the table, so a checkpoint sees the ids it was trained with; token(id) still names every line.
    tokenList.forEach((token, id) => this.ids.set(token, id));
    const required = (name: string): number => {
      const id = this.ids.get(name);
      if (id === undefined)
        throw new UserError(`${source}: has no ${name} token; a vocabulary needs ${PAD} and ${UNK}`);
      return id;
    };
    this.padId = required(PAD);
    this.unkId = required(UNK);
    this.clsId = this.ids.get(CLS);
    this.sepId = this.ids.get(SEP);
    this.maskId = this.ids.get(MASK);
  }

  /** Counts the tokens of every text and keeps the frequent ones (TokenCounter.vocab). */
  static build(tokenStream: Iterable<string[]>, options: BuildOptions = {}): Vocab {
    const counter = new TokenCounter();
    for (const tokens of tokenStream) counter.add(tokens);
    return counter.vocab(options);
  }

  /** Read a vocab.txt: one token per line, id = line index (a final newline does not add a token). */
  static load(path: string): Vocab {
    if (!existsSync(path)) throw new UserError(`vocab file not found: ${path}`);
    // A checkpoint without vocab.txt carries its vocabulary in Hugging Face's tokenizer.json.
    if (path.endsWith('.json')) return new Vocab(readTokenizerJson(path).vocab, path);
    const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
    const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return new Vocab(lines, path);
  }

  /** Write vocab.txt atomically (temporary file, then rename) so a crash never leaves half a vocabulary. */
  save(path: string): void {
    const bad = this.tokenList.findIndex((token) => /[\r\n]/.test(token));
    if (bad >= 0)
      throw new UserError(`vocab: token ${bad} contains a line break and cannot be saved to ${path}`);
    writeFileDurably(path, this.tokenList.map((token) => token + '\n').join(''));
  }

  get size(): number {
    return this.tokenList.length;
  }

  /** All tokens in id order. */
  get tokens(): readonly string[] {
    return this.tokenList;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  id(token: string): number {
    return this.ids.get(token) ?? this.unkId;
  }

  token(id: number): string {
    const token = this.tokenList[id];
    if (token === undefined) throw new RangeError(`vocab: id ${id} is outside 0..${this.size - 1}`);
    return token;
  }

  /** Ids of `tokens`, optionally wrapped in [CLS] ... [SEP], cut to `maxLen` (no padding). */
  encode(tokens: readonly string[], options: EncodeOptions): number[] {
    const prefix = options.addCls ? [this.special(CLS, this.clsId)] : [];
    const suffix = options.addSep ? [this.special(SEP, this.sepId)] : [];
    const room = options.maxLen - prefix.length - suffix.length;
    if (room < 0) throw new UserError(`max_len ${options.maxLen} leaves no room for [CLS]/[SEP]`);
    return [...prefix, ...tokens.slice(0, room).map((t) => this.id(t)), ...suffix];
  }

  /**
   * BERT pair input `[CLS] a [SEP] b [SEP]` of at most `maxLen` ids. When too long, a token is cut
   * from the end of whichever side is longer (b on a tie) until it fits, so a short side survives whole.
   */
  encodePair(a: readonly string[], b: readonly string[], options: { maxLen: number }): EncodedPair {
    const cls = this.special(CLS, this.clsId);
    const sep = this.special(SEP, this.sepId);
    const room = options.maxLen - 3;
    if (room < 0) throw new UserError(`max_len ${options.maxLen} leaves no room for [CLS] a [SEP] b [SEP]`);
    let lenA = a.length;
    let lenB = b.length;
    while (lenA + lenB > room) {
      if (lenA > lenB) lenA--;
      else lenB--;
    }
    const idsA = a.slice(0, lenA).map((t) => this.id(t));
    const idsB = b.slice(0, lenB).map((t) => this.id(t));
    return {
      ids: [cls, ...idsA, sep, ...idsB, sep],
      typeIds: [...Array<number>(lenA + 2).fill(0), ...Array<number>(lenB + 1).fill(1)],
    };
  }

  private special(name: string, id: number | undefined): number {
    if (id === undefined) throw new UserError(`vocab: has no ${name} token, which this input format needs`);
    return id;
  }
}
