/**
 * Loads a BERT/ERNIE checkpoint directory (config.json + vocab.txt + *.safetensors) into a
 * TransformerEncoder by name, transposing Paddle-layout Linear weights. Every encoder parameter must
 * be found with the right shape (an error otherwise), except the pooler: BertForMaskedLM, and so
 * `alembic pretrain`, has none, and fine-tuning trains it from scratch. Heads the checkpoint carries
 * (MLM, NSP) are ignored on purpose; any other tensor that loads nowhere (an unknown name, or a part
 * this encoder does not have) is a warning, since it usually means a naming or config mismatch that
 * would otherwise leave weights silently random or unused. A vocab.txt with more tokens than the
 * embedding has rows is an error: those ids would index past the table.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { noGrad, tidy } from '../engine/scope.js';
import { readSafetensorsHeader } from '../engine/safetensors.js';
import { disposeAll, loadTensors } from '../engine/state-io.js';
import type { Tensor } from '../engine/tensor.js';
import { UserError } from '../util/errors.js';
import { mapCheckpoint } from './checkpoint-names.js';
import type { TransformerEncoder } from './transformer.js';

export function checkpointFiles(dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  } catch {
    throw new UserError(`${dir}: cannot read the pretrained checkpoint directory`);
  }
  if (files.length === 0)
    throw new UserError(`${dir}: no *.safetensors file in the pretrained checkpoint directory`);
  return files.sort().map((f) => path.join(dir, f));
}

export interface PretrainedLoad {
  /** How many encoder parameters were copied. */
  loaded: number;
  /** Every checkpoint tensor not copied: known heads and buffers, and `unused`. */
  ignored: string[];
  /** The part of `ignored` that is not a known head or buffer (the user is warned about these). */
  unused: string[];
}

export interface LoadPretrainedOptions {
  /** Where warnings go; stderr by default. */
  warn?: (message: string) => void;
}

/** Copies the checkpoint's weights into `encoder`; returns what it loaded and what it left out. */
export function loadPretrained(
  encoder: TransformerEncoder,
  dir: string,
  opts: LoadPretrainedOptions = {},
): PretrainedLoad {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  checkVocabFits(dir, encoder.options.vocabSize);
  const own = encoder.stateDict();
  const found = new Set<string>();
  const ignored: string[] = [];
  const unused: string[] = [];
  for (const file of checkpointFiles(dir)) {
    const names = [...readSafetensorsHeader(file).entries.keys()];
    const { mapping, ignored: skip, unrecognized } = mapCheckpoint(names, file);
    ignored.push(...skip);
    unused.push(...unrecognized);
    const { tensors } = loadTensors(file, [...mapping.keys()]);
    try {
      noGrad(() => {
        for (const [name, value] of tensors) {
          const { target, transpose } = mapping.get(name)!;
          const dst = own.get(target);
          if (!dst) {
            ignored.push(name);
            unused.push(name);
            continue;
          }
          tidy(() => {
            const src: Tensor = transpose ? value.transpose(0, 1) : value;
            const want = dst.shape.join('x');
            const got = src.shape.join('x');
            if (want !== got)
              throw new UserError(
                `${file}: ${name}: shape ${got} does not match the model's ${target} ${want}`,
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
  const missing = [...own.keys()].filter((k) => !found.has(k) && !k.startsWith('pooler.'));
  if (missing.length) {
    throw new UserError(
      `${dir}: the checkpoint lacks ${missing.length} encoder weights, e.g. ${missing.slice(0, 3).join(', ')}`,
    );
  }
  if (unused.length) {
    warn(
      `${dir}: ${unused.length} checkpoint tensor(s) match no parameter of the encoder and are not used, ` +
        `e.g. ${unused.slice(0, 3).join(', ')} (a naming or config.json mismatch?)`,
    );
  }
  return { loaded: found.size, ignored, unused };
}

/** A vocab.txt beside the weights must not hold more tokens than the word embedding has rows. */
function checkVocabFits(dir: string, rows: number): void {
  const file = path.join(dir, 'vocab.txt');
  if (!existsSync(file)) return;
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length > rows)
    throw new UserError(
      `${file}: ${lines.length} tokens, but the checkpoint's word embedding has only ${rows} rows (config.json vocab_size)`,
    );
}
