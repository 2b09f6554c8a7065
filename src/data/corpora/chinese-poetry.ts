/**
 * Tang and Song poems (shi) from the chinese-poetry package. What the package ships and what we use:
 *
 *  - dist/quantangshi/poet.tang.<n>.json (58 files, 57,607 poems) and poet.song.<n>.json (255 files,
 *    254,248 poems), 1,000 poems a file in author order: {id, author, title, paragraphs[], tags?[]}.
 *    Both dynasties are in traditional characters, so script gives nothing away in Tang-vs-Song (the
 *    songci/ lyrics are simplified, which is why they are not mixed in).
 *  - tags on about 11,000 poems (615 distinct, in simplified characters): places (西湖, 庐山), themes
 *    (送别, 思乡), forms (五言律诗) and anthology memberships (唐诗三百首), which are not topics and are
 *    left out by default.
 *  - dist/strains/json/<same file name>: the tone pattern of each poem ({id, strains[]}), one symbol per
 *    character: 平 level, 仄 oblique, ○ either reading, ？ not in the tone dictionary, and punctuation
 *    copied through. About 306,000 poems align character by character; the rest are left out.
 *  - quantangshi/error/ holds poems the package flags as damaged (missing glyphs); they are not used.
 *
 * Texts are the paragraphs joined (they carry their own punctuation). Poems with no text are left out;
 * a text that occurs more than once is kept once, and texts filed under both dynasties are left out of
 * the Tang-vs-Song data since their label is unknowable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import type {
  ClassificationExample,
  GenerationExample,
  SequenceExample,
  TextExample,
} from '../readers/types.js';
import { packageDir } from './package-dir.js';

export const CHINESE_POETRY_PACKAGE = 'chinese-poetry';

/** A sample pool spans at least this many files (runs of authors), so no few poets dominate it. */
const MIN_POOL_FILES = 8;

export type Dynasty = 'tang' | 'song';

export interface Poem {
  id: string;
  dynasty: Dynasty;
  author: string;
  title: string;
  paragraphs: string[];
  tags: string[];
}

export interface PoemExample extends ClassificationExample {
  id: string;
  author: string;
  title: string;
  dynasty: Dynasty;
}

export interface PoetryOptions {
  /** The chinese-poetry package directory; found with Node's module resolution by default. */
  dir?: string;
  /** Default 42. */
  seed?: number;
}

export interface SampleOptions extends PoetryOptions {
  /** Which dynasties to read; default both. */
  dynasties?: Dynasty[];
  /**
   * At most this many examples. To stay fast, files are then read in a seeded random order only until
   * the pool holds four times as many and spans at least 8 files (a sample of whole files, i.e. of runs
   * of authors, from which the examples are drawn at random).
   */
  limit?: number;
}

/** Every poem of a dynasty, in file order. */
export function readPoems(dynasty: Dynasty, options: PoetryOptions = {}): Poem[] {
  return poemFiles(poetryDir(options), dynasty).flatMap((file) => readPoemFile(file, dynasty));
}

/**
 * Tang vs Song classification (label "tang" / "song"). Without limitPerClass every poem is used and the
 * classes are very unequal (about 1 : 4.4). With it, each class is sampled to at most that many poems,
 * drawn from a pool of whole files read in seeded random order until it holds four times as many
 * poems and at least 8 files (reading all 144 MB takes seconds; a few files, a fraction of one); texts
 * filed under both dynasties are then only caught when both files are in the pools.
 */
export function loadTangSong(options: PoetryOptions & { limitPerClass?: number } = {}): PoemExample[] {
  return loadTangSongWithRest(options).examples;
}

/**
 * loadTangSong's examples and, with limitPerClass, the rest of the pools as unlabelled texts: the
 * same poets' other poems, in-domain text for task-adaptive pre-training or semi-supervised use that
 * shares no poem with the examples.
 */
export function loadTangSongWithRest(options: PoetryOptions & { limitPerClass?: number } = {}): {
  examples: PoemExample[];
  rest: TextExample[];
} {
  const rng = new Rng(options.seed ?? 42);
  const dir = poetryDir(options);
  const limit = options.limitPerClass;
  const pool = (dynasty: Dynasty): Poem[] => {
    const files = poemFiles(dir, dynasty);
    if (limit === undefined) return files.flatMap((file) => readPoemFile(file, dynasty));
    const poems: Poem[] = [];
    let read = 0;
    for (const file of rng.shuffle(files)) {
      if (poolIsFull(limit, poems.length, read++)) break;
      poems.push(...readPoemFile(file, dynasty));
    }
    return poems;
  };
  const tang = pool('tang');
  const song = pool('song');
  const songTexts = new Set(song.map(poemText));
  const tangTexts = new Set(tang.map(poemText));
  const examples: PoemExample[] = [];
  const rest: TextExample[] = [];
  for (const [poems, other] of [
    [tang, songTexts],
    [song, tangTexts],
  ] as const) {
    let kept = uniqueByText(poems).filter((poem) => !other.has(poemText(poem)));
    if (limit !== undefined) {
      const shuffled = rng.shuffle(kept);
      kept = shuffled.slice(0, limit);
      rest.push(...shuffled.slice(limit).map((poem) => ({ id: poem.id, text: poemText(poem) })));
    }
    examples.push(...kept.map((poem) => poemExample(poem, { label: poem.dynasty })));
  }
  return { examples: rng.shuffle(examples), rest };
}

/** Which poet wrote a poem: the `topAuthors` poets with the most poems (default 10), each a class. */
export function loadPoemAuthors(
  options: PoetryOptions & { dynasties?: Dynasty[]; topAuthors?: number; limitPerClass?: number } = {},
): PoemExample[] {
  const rng = new Rng(options.seed ?? 42);
  const poems = uniqueByText((options.dynasties ?? ['tang', 'song']).flatMap((d) => readPoems(d, options)));
  const byAuthor = new Map<string, Poem[]>();
  for (const poem of poems) {
    if (poem.author === '' || poem.author === '無名氏' || poem.author === '佚名') continue; // "anonymous" is no author
    const list = byAuthor.get(poem.author) ?? [];
    list.push(poem);
    byAuthor.set(poem.author, list);
  }
  const top = [...byAuthor.entries()]
    .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.topAuthors ?? 10);
  const examples = top.flatMap(([author, list]) => {
    const kept =
      options.limitPerClass === undefined ? list : rng.shuffle([...list]).slice(0, options.limitPerClass);
    return kept.map((poem) => poemExample(poem, { label: author }));
  });
  return rng.shuffle(examples);
}

/** Anthology memberships rather than topics: not useful as labels. */
export const COLLECTION_TAGS: ReadonlySet<string> = new Set([
  '唐诗三百首',
  '古诗三百首',
  '宋词三百首',
  '宋诗',
  '初中古诗',
  '小学古诗',
  '高中古诗',
  '隋・唐・五代',
  '卷一·唐五代词',
]);

/**
 * Multi-label topic tagging: poems with at least one tag used on `minCount` poems or more (default 50),
 * `labels` holding those tags. COLLECTION_TAGS are left out unless `excludeTags` says otherwise.
 */
export function loadPoemTags(
  options: PoetryOptions & {
    dynasties?: Dynasty[];
    minCount?: number;
    excludeTags?: ReadonlySet<string>;
  } = {},
): PoemExample[] {
  const rng = new Rng(options.seed ?? 42);
  const exclude = options.excludeTags ?? COLLECTION_TAGS;
  const poems = uniqueByText((options.dynasties ?? ['tang', 'song']).flatMap((d) => readPoems(d, options)));
  const counts = new Map<string, number>();
  for (const poem of poems) for (const tag of new Set(poem.tags)) counts.set(tag, (counts.get(tag) ?? 0) + 1);
  const minCount = options.minCount ?? 50;
  const useful = (tag: string) => !exclude.has(tag) && (counts.get(tag) ?? 0) >= minCount && !/\s/.test(tag);
  const examples: PoemExample[] = [];
  for (const poem of poems) {
    const labels = [...new Set(poem.tags)].filter(useful);
    if (labels.length > 0) examples.push(poemExample(poem, { labels }));
  }
  return rng.shuffle(examples);
}

/** Title → first line (the opening couplet), for generation. */
export function loadPoemTitles(options: SampleOptions = {}): GenerationExample[] {
  return samplePoems(options, (poem) =>
    poem.title.trim() === '' ? undefined : { id: poem.id, source: poem.title, target: poem.paragraphs[0] },
  );
}

/** Whole poems as plain texts, for language modelling or pretraining. */
export function loadUnlabelledPoems(options: SampleOptions = {}): TextExample[] {
  return samplePoems(options, (poem) => ({ id: poem.id, text: poemText(poem) }));
}

export interface ToneExamples {
  examples: SequenceExample[];
  /** Poems whose tone pattern does not line up with their characters. */
  skipped: number;
}

/**
 * Tone tagging: each character of a poem tagged with its tone class, from the strains data:
 * P 平 (level), Z 仄 (oblique), B ○ (either reading), U ？ (unknown), X punctuation.
 */
export function loadPoemTones(options: SampleOptions = {}): ToneExamples {
  const dir = poetryDir(options);
  const rng = new Rng(options.seed ?? 42);
  const files = (options.dynasties ?? ['tang', 'song']).flatMap((d) =>
    poemFiles(dir, d).map((file) => ({ file, dynasty: d })),
  );
  if (options.limit !== undefined) rng.shuffle(files);
  const examples: SequenceExample[] = [];
  let skipped = 0;
  let read = 0;
  for (const { file, dynasty } of files) {
    if (poolIsFull(options.limit, examples.length, read++)) break;
    const strains = readStrainsFile(join(dir, 'strains', 'json', file.split(/[\\/]/).pop() as string));
    for (const poem of readPoemFile(file, dynasty)) {
      const pattern = strains.get(poem.id);
      const tags = pattern === undefined ? undefined : toneTags(poem.paragraphs.join(''), pattern.join(''));
      if (tags === undefined) {
        skipped++;
        continue;
      }
      examples.push({ id: poem.id, tokens: [...poem.paragraphs.join('')], tags });
    }
  }
  if (options.limit === undefined) return { examples, skipped };
  return { examples: rng.shuffle(examples).slice(0, options.limit), skipped };
}

const TONE_TAGS: Record<string, string> = { 平: 'P', 仄: 'Z', '○': 'B', '？': 'U' };

/** Per-character tone tags, or undefined when the pattern does not line up with the text. */
export function toneTags(text: string, pattern: string): string[] | undefined {
  const chars = [...text];
  const marks = [...pattern];
  if (chars.length !== marks.length || chars.length === 0) return undefined;
  const tags: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    // Punctuation is copied through, or marked ？; □ (a missing glyph) is a symbol marked ？: unknown.
    if (marks[i] === chars[i] || (marks[i] === '？' && /\p{P}/u.test(chars[i]))) tags.push('X');
    else if (Object.hasOwn(TONE_TAGS, marks[i])) tags.push(TONE_TAGS[marks[i]]);
    else return undefined;
  }
  return tags;
}

function samplePoems<T>(options: SampleOptions, toExample: (poem: Poem) => T | undefined): T[] {
  const dir = poetryDir(options);
  const rng = new Rng(options.seed ?? 42);
  const files = (options.dynasties ?? ['tang', 'song']).flatMap((d) =>
    poemFiles(dir, d).map((file) => ({ file, dynasty: d })),
  );
  const limit = options.limit;
  if (limit !== undefined) rng.shuffle(files);
  const seen = new Set<string>();
  const examples: T[] = [];
  let read = 0;
  for (const { file, dynasty } of files) {
    if (poolIsFull(limit, examples.length, read++)) break;
    for (const poem of readPoemFile(file, dynasty)) {
      const text = poemText(poem);
      if (seen.has(text)) continue;
      seen.add(text);
      const example = toExample(poem);
      if (example !== undefined) examples.push(example);
    }
  }
  return limit === undefined ? examples : rng.shuffle(examples).slice(0, limit);
}

/** Whether a sample pool of `size` items from `files` files is big and varied enough for `limit`. */
function poolIsFull(limit: number | undefined, size: number, files: number): boolean {
  return limit !== undefined && size >= 4 * limit && files >= MIN_POOL_FILES;
}

function poetryDir(options: PoetryOptions): string {
  return join(options.dir ?? packageDir(CHINESE_POETRY_PACKAGE), 'dist');
}

/** The poem files of a dynasty, in numeric order (poet.tang.0, poet.tang.1000, ...). */
function poemFiles(dir: string, dynasty: Dynasty): string[] {
  const pattern = new RegExp(`^poet\\.${dynasty}\\.(\\d+)\\.json$`);
  const folder = join(dir, 'quantangshi');
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    throw new UserError(`${folder}: not found; is the ${CHINESE_POETRY_PACKAGE} package complete?`);
  }
  return names
    .map((name) => ({ name, n: Number(pattern.exec(name)?.[1]) }))
    .filter((f) => Number.isFinite(f.n))
    .sort((a, b) => a.n - b.n)
    .map((f) => join(folder, f.name));
}

interface StoredPoem {
  id: string;
  author?: string;
  title?: string;
  paragraphs?: string[];
  tags?: string[];
}

function readPoemFile(file: string, dynasty: Dynasty): Poem[] {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredPoem[];
  return stored
    .filter((p) => Array.isArray(p.paragraphs) && p.paragraphs.join('').trim() !== '')
    .map((p) => ({
      id: p.id,
      dynasty,
      author: p.author ?? '',
      title: p.title ?? '',
      paragraphs: p.paragraphs as string[],
      tags: p.tags ?? [],
    }));
}

/** A poem file's tone patterns by poem id (none when the package has no strains file for it). */
function readStrainsFile(file: string): Map<string, string[]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return new Map();
  }
  const stored = JSON.parse(text) as { id: string; strains: string[] }[];
  return new Map(stored.map((s) => [s.id, s.strains]));
}

function poemText(poem: Poem): string {
  return poem.paragraphs.join('');
}

function uniqueByText(poems: Poem[]): Poem[] {
  const seen = new Set<string>();
  return poems.filter((poem) => {
    const text = poemText(poem);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

function poemExample(poem: Poem, label: { label?: string; labels?: string[] }): PoemExample {
  return {
    id: poem.id,
    text: poemText(poem),
    ...label,
    author: poem.author,
    title: poem.title,
    dynasty: poem.dynasty,
  };
}
