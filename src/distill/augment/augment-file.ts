import { createWriteStream, existsSync, realpathSync, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { Rng } from '../../util/rng.js';
import { UserError } from '../../util/errors.js';
import { HashSet64 } from './dedupe.js';
import { PosLexicon } from './pos-lexicon.js';
import {
  functionTagger,
  lexiconTagger,
  readWordTagFile,
  type PosTagger,
  type WordPosFunction,
} from './pos-taggers.js';
import {
  nSample,
  posReplace,
  strategyChooser,
  unkNoise,
  type StrategyName,
  type StrategyWeights,
} from './strategies.js';
import { createTextAnalyser, type AnalysedText, type TextAnalyser } from './text-analyser.js';
import { detectLayout, readTextRows, type RowLayout } from './tsv-rows.js';
import { SegmentationDetector, type Segmentation, type SegmentationGuess } from './words.js';

export interface AugmentFileOptions {
  input: string;
  output: string;
  /** Samples attempted per input line. Duplicates and unchanged copies are dropped, so fewer may be written. */
  ratio: number;
  /** Mixing weights of the strategies; a missing one is 0. */
  strategies: StrategyWeights;
  /** Per-word probability for UNK noise and same-POS replacement (default 0.1). */
  p?: number;
  seed: number;
  /** Lines hold two texts (text_a, text_b); each is augmented and they are written together. */
  pair?: boolean;
  /** Whether the last column is a gold label (dropped from the output). Default: from the first line's field count. */
  hasLabelColumn?: boolean;
  /** A `word<TAB>tag` file: the POS source for same-POS replacement (required for non-Chinese text). */
  posLexicon?: string;
  /** A POS source given in code: a per-word function or a sequence tagger. */
  posTagger?: WordPosFunction | PosTagger;
  /** How texts are split into words. Default: guessed from the first lines (see SegmentationDetector). */
  segmentation?: Segmentation;
}

export interface AugmentFileResult {
  /** Input lines read. */
  read: number;
  /** Augmented lines written. */
  written: number;
  /** Samples dropped because an identical line was already written. */
  duplicatesDropped: number;
  /** Samples dropped because augmentation left the line as it was (e.g. no word drawn for replacement). */
  unchangedDropped: number;
  segmentation: Segmentation;
}

/** Lines looked at to guess the segmentation: enough for a stable majority, cheap on a huge file. */
const DETECTION_LINES = 1000;
const DEFAULT_P = 0.1;

/**
 * Data-distillation augmentation of a TSV file (guide §6.3.2): for each input line, `ratio` samples,
 * each made by one strategy chosen by weight. Output lines are the augmented text(s) only — never the
 * label, which the teacher will supply. Deterministic for a seed.
 *
 * Memory does not grow with the file: pass 1 (only when `pos` is used) streams the input into the
 * POS → word → frequency lexicon, bounded by the vocabulary; pass 2 streams it again and writes,
 * de-duplicating through a set of 64-bit hashes (see HashSet64: ≤ 23 bytes per distinct output line).
 * The output appears only when complete (written to a temporary file, then renamed).
 */
export async function augmentFile(options: AugmentFileOptions): Promise<AugmentFileResult> {
  const { input, output, ratio, seed } = options;
  const p = options.p ?? DEFAULT_P;
  validate(options, p);
  const choose = strategyChooser(options.strategies);
  const needTags = (options.strategies.pos ?? 0) > 0;

  const layout = await detectLayout(input, options.pair ?? false, options.hasLabelColumn);
  const guess = await guessSegmentation(input, layout, options.segmentation);
  const tagger = await userTagger(options);
  const analyser = await createTextAnalyser({ ...guess, needTags, tagger });
  const lexicon = needTags ? await collectLexicon(input, layout, analyser, options.posLexicon) : undefined;

  const rng = new Rng(seed);
  const augment = (strategy: StrategyName, text: AnalysedText): string[] => {
    if (strategy === 'unk') return unkNoise(text.words, p, rng);
    if (strategy === 'nsample') return nSample(text.words, rng);
    return posReplace(text.words, text.tags ?? [], p, lexicon!, rng);
  };

  const seen = new HashSet64();
  const result = { read: 0, written: 0, duplicatesDropped: 0, unchangedDropped: 0 };
  const writer = await LineWriter.open(output);
  try {
    for await (const row of readTextRows(input, layout)) {
      result.read++;
      const texts = row.texts.map((t) => analyser.analyse(t));
      const original = texts.map((t) => analyser.join(t.words)).join('\t');
      for (let k = 0; k < ratio; k++) {
        const strategy = choose(rng);
        const line = texts.map((t) => analyser.join(augment(strategy, t))).join('\t');
        if (line === original) result.unchangedDropped++;
        else if (!seen.add(line)) result.duplicatesDropped++;
        else {
          await writer.write(line);
          result.written++;
        }
      }
    }
    await writer.commit();
  } catch (err) {
    await writer.abandon();
    throw err;
  }
  return { ...result, segmentation: analyser.segmentation };
}

function sameFile(a: string, b: string): boolean {
  const real = (f: string) => (existsSync(f) ? realpathSync(f) : resolve(f));
  return real(a) === real(b);
}

function validate(options: AugmentFileOptions, p: number): void {
  if (!Number.isInteger(options.ratio) || options.ratio < 1) {
    throw new UserError(`ratio must be a whole number ≥ 1, got ${options.ratio}`);
  }
  if (!(p >= 0 && p <= 1)) throw new UserError(`p must be a probability in [0, 1], got ${p}`);
  if (!Number.isInteger(options.seed)) throw new UserError(`seed must be an integer, got ${options.seed}`);
  // The output replaces its path when complete: never one of the files read (also through a link).
  for (const [what, file] of [
    ['the input file', options.input],
    ['the POS lexicon', options.posLexicon],
  ] as const) {
    if (file !== undefined && sameFile(file, options.output)) {
      throw new UserError(`${options.output}: output must not be ${what}`);
    }
  }
  if (options.posLexicon !== undefined && options.posTagger !== undefined) {
    throw new UserError('give one POS source: a lexicon file or a tagger, not both');
  }
}

async function guessSegmentation(
  input: string,
  layout: RowLayout,
  given: Segmentation | undefined,
): Promise<SegmentationGuess> {
  const detector = new SegmentationDetector();
  for await (const row of readTextRows(input, layout)) {
    row.texts.forEach((t) => detector.observe(t));
    if (row.lineNo >= DETECTION_LINES) break;
  }
  const guess = detector.guess();
  return given === undefined ? guess : { segmentation: given, chinese: guess.chinese };
}

async function userTagger(options: AugmentFileOptions): Promise<PosTagger | undefined> {
  if (options.posLexicon !== undefined) return lexiconTagger(await readWordTagFile(options.posLexicon));
  const t = options.posTagger;
  return typeof t === 'function' ? functionTagger(t) : t;
}

/** Pass 1: the dataset's own words by part of speech, the pool same-POS replacement draws from. */
async function collectLexicon(
  input: string,
  layout: RowLayout,
  analyser: TextAnalyser,
  posLexicon: string | undefined,
): Promise<PosLexicon> {
  const lexicon = new PosLexicon();
  for await (const row of readTextRows(input, layout)) {
    for (const text of row.texts) {
      const { words, tags } = analyser.analyse(text);
      lexicon.addText(words, tags ?? []);
    }
  }
  const source = posLexicon ?? 'the POS source';
  if (lexicon.size === 0) {
    throw new UserError(
      `${input}: same-POS replacement: no word of this file got a part of speech from ${source}`,
    );
  }
  if (lexicon.replaceableTags === 0) {
    throw new UserError(
      `${input}: same-POS replacement has nothing to swap: no part of speech from ${source} has two different words here`,
    );
  }
  return lexicon;
}

/** Buffered, back-pressured line output to a temporary file that becomes the output only on commit. */
class LineWriter {
  private buffer = '';
  private constructor(
    private readonly stream: WriteStream,
    private readonly tmpPath: string,
    private readonly path: string,
  ) {}

  static async open(path: string): Promise<LineWriter> {
    await mkdir(dirname(resolve(path)), { recursive: true });
    const tmpPath = `${path}.tmp-${process.pid}`;
    const stream = createWriteStream(tmpPath, { encoding: 'utf8' });
    await once(stream, 'open');
    return new LineWriter(stream, tmpPath, path);
  }

  async write(line: string): Promise<void> {
    this.buffer += line + '\n';
    if (this.buffer.length >= 1 << 16) await this.flush();
  }

  async commit(): Promise<void> {
    await this.flush();
    await new Promise<void>((done, fail) =>
      this.stream.end((err?: Error | null) => (err ? fail(err) : done())),
    );
    await rename(this.tmpPath, this.path);
  }

  async abandon(): Promise<void> {
    this.stream.destroy();
    await rm(this.tmpPath, { force: true });
  }

  private async flush(): Promise<void> {
    const chunk = this.buffer;
    this.buffer = '';
    if (chunk !== '' && !this.stream.write(chunk)) await once(this.stream, 'drain');
  }
}
