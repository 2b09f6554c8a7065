/**
 * Hugging Face's fast-tokenizer file (`tokenizer.json`), read as far as a BERT/ERNIE checkpoint needs it:
 * the WordPiece vocabulary (token → id), the BertNormalizer's switches (lowercase, strip accents, Chinese
 * characters) and the added special tokens. Other tokenizer models (BPE, Unigram) are refused by name,
 * since alembic's WordPiece would silently tokenise differently from how the checkpoint was trained.
 * In the config layer with checkpoint-tokenizer.ts, which reads the normalizer's switches from it while a
 * config is parsed; data/vocab.ts reads the vocabulary from it.
 */
import { readFileSync } from 'node:fs';
import { InputError, UserError } from '../util/errors.js';

export interface TokenizerJson {
  file: string;
  /** Tokens in id order. */
  vocab: string[];
  lowercase?: boolean;
  stripAccents?: boolean;
  tokenizeChineseChars?: boolean;
  /** Added tokens marked special (kept whole when written in text). */
  specials: string[];
  maxInputCharsPerWord?: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The BertNormalizer, alone or inside a Sequence normalizer. */
function bertNormalizer(n: unknown): Json | undefined {
  if (!isObject(n)) return undefined;
  if (n.type === 'BertNormalizer') return n;
  if (n.type === 'Sequence' && Array.isArray(n.normalizers))
    return n.normalizers.map(bertNormalizer).find(Boolean);
  return undefined;
}

const optionalBool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

export function readTokenizerJson(file: string): TokenizerJson {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: cannot read the tokenizer: ${(e as Error).message}`);
  }
  if (!isObject(json) || !isObject(json.model)) throw new InputError({ file, field: 'model' }, 'missing');
  const model = json.model;
  if (model.type !== 'WordPiece')
    throw new InputError(
      { file, field: 'model.type' },
      `${JSON.stringify(model.type)}: only WordPiece tokenizers are supported`,
    );
  if (!isObject(model.vocab))
    throw new InputError({ file, field: 'model.vocab' }, 'must be an object of token → id');
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0)
      throw new InputError(
        { file, field: `model.vocab.${token}` },
        `id ${JSON.stringify(id)} is not an integer >= 0`,
      );
    vocab[id as number] = token;
  }
  const hole = vocab.findIndex((t) => t === undefined);
  if (hole >= 0 || vocab.length === 0)
    throw new InputError(
      { file, field: 'model.vocab' },
      `ids must run 0…n-1 without gaps (no token has id ${hole})`,
    );
  const norm = bertNormalizer(json.normalizer);
  const specials = Array.isArray(json.added_tokens)
    ? json.added_tokens
        .filter((t) => isObject(t) && t.special === true && typeof t.content === 'string')
        .map((t) => (t as Json).content as string)
    : [];
  return {
    file,
    vocab,
    lowercase: optionalBool(norm?.lowercase),
    stripAccents: optionalBool(norm?.strip_accents),
    tokenizeChineseChars: optionalBool(norm?.handle_chinese_chars),
    specials,
    maxInputCharsPerWord:
      typeof model.max_input_chars_per_word === 'number' ? model.max_input_chars_per_word : undefined,
  };
}
