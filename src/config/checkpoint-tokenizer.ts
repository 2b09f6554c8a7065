/**
 * How a pretrained checkpoint was tokenised, from the files it ships: `tokenizer.json` (Hugging Face fast
 * format; its BertNormalizer is what the fast tokenizer runs), `tokenizer_config.json` (Hugging Face and
 * PaddleNLP: do_lower_case, strip_accents, tokenize_chinese_chars, added special tokens) and PaddleNLP's
 * `model_config.json`. A setting no file gives stays undefined, so the caller can tell "the checkpoint says
 * lowercase" from "nobody said": a cased checkpoint must not be lowercased by a default.
 * In the config layer because parseConfig (run-config.ts) settles the tokenizer switches a config leaves
 * out from these files, and every layer above reads the settled config.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readTokenizerJson } from './tokenizer-json.js';

export interface CheckpointTokenizer {
  lowercase?: boolean;
  stripAccents?: boolean;
  tokenizeChineseChars?: boolean;
  /** Special tokens the checkpoint declares beyond [PAD] [UNK] [CLS] [SEP] [MASK]. */
  specials: string[];
  /** The vocabulary file: vocab.txt, else tokenizer.json; undefined when the directory has neither. */
  vocabFile?: string;
  /** The files the settings came from. */
  sources: string[];
}

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    // Old PaddleNLP files nest the arguments: {"init_args": [{...}]}.
    const args = (v as Json).init_args;
    return Array.isArray(args) && typeof args[0] === 'object' && args[0] !== null
      ? { ...(v as Json), ...args[0] }
      : (v as Json);
  } catch {
    return undefined;
  }
}

const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** Declared special tokens of a tokenizer_config.json (additional_special_tokens, added_tokens_decoder). */
function configSpecials(c: Json): string[] {
  const out: string[] = [];
  if (Array.isArray(c.additional_special_tokens))
    for (const t of c.additional_special_tokens) {
      if (typeof t === 'string') out.push(t);
      else if (typeof t === 'object' && t !== null && typeof (t as Json).content === 'string')
        out.push((t as Json).content as string);
    }
  if (typeof c.added_tokens_decoder === 'object' && c.added_tokens_decoder !== null)
    for (const t of Object.values(c.added_tokens_decoder as Json))
      if (
        typeof t === 'object' &&
        t !== null &&
        (t as Json).special === true &&
        typeof (t as Json).content === 'string'
      )
        out.push((t as Json).content as string);
  return out;
}

/** The vocabulary file of a checkpoint directory: vocab.txt, else a tokenizer.json, else undefined. */
export function checkpointVocabFile(dir: string): string | undefined {
  for (const name of ['vocab.txt', 'tokenizer.json']) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

export function readCheckpointTokenizer(dir: string): CheckpointTokenizer {
  const out: CheckpointTokenizer = { specials: [], sources: [], vocabFile: checkpointVocabFile(dir) };
  const fill = (
    source: string,
    s: { lowercase?: boolean; stripAccents?: boolean; tokenizeChineseChars?: boolean; specials: string[] },
  ) => {
    const before = JSON.stringify(out);
    out.lowercase ??= s.lowercase;
    out.stripAccents ??= s.stripAccents;
    out.tokenizeChineseChars ??= s.tokenizeChineseChars;
    for (const t of s.specials) if (!out.specials.includes(t)) out.specials.push(t);
    if (JSON.stringify(out) !== before) out.sources.push(source);
  };
  const fast = path.join(dir, 'tokenizer.json');
  if (existsSync(fast)) {
    try {
      fill(fast, readTokenizerJson(fast));
    } catch {
      // Not a WordPiece tokenizer.json: the other files (and vocab.txt) still describe the checkpoint.
    }
  }
  for (const name of ['tokenizer_config.json', 'model_config.json']) {
    const file = path.join(dir, name);
    const c = existsSync(file) ? readJson(file) : undefined;
    if (!c) continue;
    fill(file, {
      lowercase: bool(c.do_lower_case),
      stripAccents: bool(c.strip_accents),
      tokenizeChineseChars: bool(c.tokenize_chinese_chars),
      specials: configSpecials(c),
    });
  }
  return out;
}
