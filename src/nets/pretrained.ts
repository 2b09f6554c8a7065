/**
 * Loads a BERT/ERNIE checkpoint directory into a TransformerEncoder by name, whatever format its weights
 * ship in (checkpoint-files.ts: safetensors, PyTorch zip, Paddle pdparams, sharded or not), transposing
 * Paddle-layout Linear weights. Every encoder parameter must be found with the right shape (an error
 * otherwise), except the pooler: BertForMaskedLM, and so `alembic pretrain`, has none, and fine-tuning trains
 * it from scratch. Loading is loud: it says what loaded from which files and what was left out and why —
 * pre-training and task heads on purpose, anything else as a warning, since an unknown name usually means a
 * naming or config mismatch that would leave weights silently random. A vocabulary with more tokens than
 * the embedding has rows is an error (those ids would index past the table), and a `dataset.tokenizer`
 * that does not match how the checkpoint was trained is a warning.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { noGrad, tidy } from '../engine/scope.js';
import { disposeAll, fromRaw } from '../engine/state-io.js';
import type { Tensor } from '../engine/tensor.js';
import type { TensorSource } from '../engine/tensor-source.js';
import { checkpointVocabFile, readCheckpointTokenizer } from '../config/checkpoint-tokenizer.js';
import { readTokenizerJson } from '../config/tokenizer-json.js';
import { UserError } from '../util/errors.js';
import { openCheckpoint } from './checkpoint-files.js';
import { isKnownIgnoredName, mapCheckpoint, type NameMapping } from './checkpoint-names.js';
import type { TransformerEncoder } from './transformer.js';

export interface PretrainedLoad {
  /** How many encoder parameters were copied. */
  loaded: number;
  /** Every checkpoint tensor not copied: known heads and buffers, and `unused`. */
  ignored: string[];
  /** The part of `ignored` that is not a known head or buffer (the user is warned about these). */
  unused: string[];
  /** The weight files read. */
  files: string[];
}

/** dataset.tokenizer as far as the fit check needs it. */
export interface TokenizerChoice {
  type: string;
  lowercase?: boolean;
}

export interface LoadPretrainedOptions {
  /** Where warnings go; stderr by default. */
  warn?: (message: string) => void;
  /** Where the report of what loaded goes; stderr by default. */
  log?: (message: string) => void;
  /** The config's tokenizer, checked against the checkpoint's. */
  tokenizer?: TokenizerChoice;
}

const stderr = (prefix: string) => (m: string) => process.stderr.write(`${prefix}${m}\n`);

/** Copies the checkpoint's weights into `encoder`; returns what it loaded and what it left out. */
export function loadPretrained(
  encoder: TransformerEncoder,
  dir: string,
  opts: LoadPretrainedOptions = {},
): PretrainedLoad {
  const warn = opts.warn ?? stderr('warning: ');
  const log = opts.log ?? stderr('');
  checkVocabFits(dir, encoder.options.vocabSize);
  if (opts.tokenizer) checkTokenizerFits(dir, opts.tokenizer, warn);
  const sources = openCheckpoint(dir);
  // Names of all shards are mapped together: the layout (Hugging Face or Paddle) is the checkpoint's, and
  // a pooler alone in a shard must not be read in the wrong one.
  const owner = new Map<string, TensorSource>();
  for (const s of sources) for (const n of s.names()) if (!owner.has(n)) owner.set(n, s);
  const { mapping, ignored: skipped } = mapCheckpoint([...owner.keys()], dir);
  const own = encoder.stateDict();
  const found = new Set<string>();
  const ignored = [...skipped];
  const absent: string[] = [];
  for (const source of sources) {
    const names = [...mapping.keys()].filter((n) => owner.get(n) === source);
    const wanted = names.filter((n) => own.has(mapping.get(n)!.target));
    absent.push(...names.filter((n) => !own.has(mapping.get(n)!.target)));
    copyInto(own, source, wanted, mapping, found);
  }
  ignored.push(...absent);
  const missing = [...own.keys()].filter((k) => !found.has(k) && !k.startsWith('pooler.'));
  if (missing.length) {
    throw new UserError(
      `${dir}: the checkpoint lacks ${missing.length} encoder weights, e.g. ${missing.slice(0, 3).join(', ')}`,
    );
  }
  const isPooler = (n: string) => mapping.get(n)?.target.startsWith('pooler.') === true;
  const unused = ignored.filter((n) => !isKnownIgnoredName(n) && !(absent.includes(n) && isPooler(n)));
  report({ dir, sources, loaded: found.size, ignored, pooler: absent.filter(isPooler), unused, log, warn });
  if (own.has('pooler.dense.weight') && !found.has('pooler.dense.weight'))
    log('pretrained: the checkpoint has no pooler; it starts from random weights');
  return { loaded: found.size, ignored, unused, files: sources.map((s) => s.file) };
}

/** Says what loaded from which files, what was left out on purpose, and warns about the rest. */
function report(r: {
  dir: string;
  sources: TensorSource[];
  loaded: number;
  ignored: string[];
  pooler: string[];
  unused: string[];
  log: (m: string) => void;
  warn: (m: string) => void;
}): void {
  const files = r.sources.map((s) => path.basename(s.file)).join(', ');
  r.log(
    `pretrained: loaded ${r.loaded} tensors into the encoder from ${r.dir} (${r.sources[0].format}: ${files})`,
  );
  const heads = r.ignored.filter((n) => isKnownIgnoredName(n));
  if (heads.length) {
    const some = heads.slice(0, 3).join(', ');
    r.log(`pretrained: ignored ${heads.length} pre-training/task head tensor(s) and buffers, e.g. ${some}`);
  }
  if (r.pooler.length) r.log(`pretrained: ignored ${r.pooler.join(', ')}: this model does not use a pooler`);
  if (r.unused.length) {
    r.warn(
      `${r.dir}: ${r.unused.length} checkpoint tensor(s) match no parameter of the encoder and are not used, ` +
        `e.g. ${r.unused.slice(0, 3).join(', ')} (a naming or config.json mismatch?)`,
    );
  }
}

function copyInto(
  own: Map<string, Tensor>,
  source: TensorSource,
  names: string[],
  mapping: Map<string, NameMapping>,
  found: Set<string>,
): void {
  if (names.length === 0) return;
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, raw] of source.read(names)) tensors.set(name, fromRaw(raw));
    noGrad(() => {
      for (const [name, value] of tensors) {
        const { target, transpose } = mapping.get(name)!;
        const dst = own.get(target)!;
        tidy(() => {
          const src: Tensor = transpose ? value.transpose(0, 1) : value;
          const want = dst.shape.join('x');
          const got = src.shape.join('x');
          if (want !== got)
            throw new UserError(
              `${source.file}: ${name}: shape ${got} does not match the model's ${target} ${want}`,
            );
          dst.copy_(src.to(dst.dtype));
        });
        found.add(target);
      }
    });
  } finally {
    disposeAll(tensors);
  }
}

/** How many tokens the checkpoint's vocabulary (vocab.txt, else tokenizer.json) holds. */
function vocabSizeOf(file: string): number {
  if (file.endsWith('.json')) return readTokenizerJson(file).vocab.length;
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.length;
}

/** The checkpoint's vocabulary must not hold more tokens than the word embedding has rows. */
function checkVocabFits(dir: string, rows: number): void {
  const file = checkpointVocabFile(dir);
  if (file === undefined || !existsSync(file)) return;
  const size = vocabSizeOf(file);
  if (size > rows)
    throw new UserError(
      `${file}: ${size} tokens, but the checkpoint's word embedding has only ${rows} rows (config.json vocab_size)`,
    );
}

/**
 * A checkpoint with a WordPiece vocabulary was trained on WordPiece tokens: another tokenizer gives it
 * whole words it mostly does not know ([UNK]), and a lowercase setting other than its own loses cased
 * tokens or never matches them.
 */
function checkTokenizerFits(dir: string, tokenizer: TokenizerChoice, warn: (m: string) => void): void {
  const own = readCheckpointTokenizer(dir);
  if (own.vocabFile === undefined) return;
  if (tokenizer.type !== 'wordpiece') {
    warn(
      `dataset.tokenizer.type is "${tokenizer.type}", but ${dir} was trained on WordPiece tokens of ` +
        `${path.basename(own.vocabFile)}: words it does not hold whole become [UNK] (English text especially); use "wordpiece"`,
    );
  }
  if (
    own.lowercase !== undefined &&
    tokenizer.lowercase !== undefined &&
    own.lowercase !== tokenizer.lowercase
  ) {
    warn(
      `dataset.tokenizer.lowercase is ${tokenizer.lowercase}, but ${own.sources[0]} says do_lower_case ${own.lowercase}: ` +
        'the text will not look like what the checkpoint was trained on',
    );
  }
}
