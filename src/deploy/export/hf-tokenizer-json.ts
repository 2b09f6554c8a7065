/**
 * Hugging Face's fast-tokenizer file (`tokenizer.json`) for a Transformer export (`export --layout hf`),
 * written to tokenise exactly as alembic's wordpiece tokenizer does, so transformers.js, Optimum and
 * `tokenizers` feed the exported graph the same ids alembic does:
 *   normalizer      BertNormalizer with the model's lowercase / strip_accents / tokenize_chinese_chars
 *   pre_tokenizer   BertPreTokenizer (whitespace, then every punctuation character on its own)
 *   model           WordPiece over vocab.txt (greedy longest match, "##" continuations, a word it cannot
 *                   cover is one [UNK], words over 100 characters are [UNK])
 *   post_processor  TemplateProcessing: [CLS] A [SEP] (type 0), pair: [CLS] A [SEP] B [SEP] (B type 1)
 *   added_tokens    alembic's special tokens of the vocabulary, matched before normalisation
 * alembic's tokenizer is itself a port of BERT's (src/data/tokenizers/wordpiece.ts, bert-basic.ts); the
 * other tokenizers (char, jieba, words, whitespace) cut text in ways no HF pre-tokenizer reproduces
 * exactly, so they get no tokenizer.json (hf-layout-export.ts refuses them by name).
 */
import { wordPieceOptions, type WordPieceSwitches } from '../../data/tokenizers/wordpiece.js';
import { CLS, SEP, SPECIAL_TOKENS, UNK, type Vocab } from '../../data/vocab.js';
import { UserError } from '../../util/errors.js';

/** The tokenizer.json document for a wordpiece vocabulary and the config's switches. */
export function hfTokenizerJson(vocab: Vocab, switches: WordPieceSwitches): Record<string, unknown> {
  const opts = wordPieceOptions(switches);
  for (const t of [CLS, SEP, UNK])
    if (!vocab.has(t)) throw new UserError(`export --layout hf: vocab.txt has no ${t}`);
  const specials = [...new Set([...SPECIAL_TOKENS, ...(opts.specials ?? [])])].filter(
    (t) => t !== '' && vocab.has(t),
  );
  const id = (t: string) => vocab.id(t);
  const special = (t: string, typeId: number) => ({ SpecialToken: { id: t, type_id: typeId } });
  const sequence = (s: 'A' | 'B', typeId: number) => ({ Sequence: { id: s, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials
      .map((t) => ({
        id: id(t),
        content: t,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      }))
      .sort((a, b) => a.id - b.id),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: opts.tokenizeChineseChars ?? true,
      // null follows lowercase, as in alembic's BasicOptions and Hugging Face.
      strip_accents: opts.stripAccents ?? null,
      lowercase: opts.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(CLS, 0), sequence('A', 0), special(SEP, 0)],
      pair: [special(CLS, 0), sequence('A', 0), special(SEP, 0), sequence('B', 1), special(SEP, 1)],
      special_tokens: Object.fromEntries([CLS, SEP].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: UNK,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.tokens.map((t, i) => [t, i])),
    },
  };
}
