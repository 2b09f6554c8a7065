/**
 * What a tag set says about structure: whether its tags spell chunks in a scheme (BIO: B-LOC, I-LOC,
 * O; BIOES adds E- and S-, with M- read as I-), and which tag-to-tag moves a well-formed sequence can
 * make, for constrained CRF decoding. Tags are read as src/metrics/chunks.ts reads them (prefix before
 * the first hyphen; a bare prefix is a chunk without a type, as in B/M/E/S word segmentation), so the
 * decoder and the chunk metrics agree.
 */
import type { TagScheme } from '../metrics/chunks.js';
import { UserError } from '../util/errors.js';
import type { CrfConstraints } from './crf.js';

export type Prefix = 'B' | 'I' | 'E' | 'S' | 'O';

const PREFIXES: Record<TagScheme, Record<string, Prefix>> = {
  BIO: { B: 'B', I: 'I', O: 'O' },
  BIOES: { B: 'B', I: 'I', M: 'I', E: 'E', S: 'S', O: 'O' },
};

/** Prefix and entity type of a tag, or undefined when the tag is not one of the scheme's. */
export function parseSchemeTag(tag: string, scheme: TagScheme): { prefix: Prefix; type: string } | undefined {
  const dash = tag.indexOf('-');
  const prefix = PREFIXES[scheme][dash < 0 ? tag : tag.slice(0, dash)];
  if (prefix === undefined || (prefix === 'O' && dash >= 0)) return undefined;
  return { prefix, type: dash < 0 ? '' : tag.slice(dash + 1) };
}

/**
 * Whether the tags spell chunks in the scheme: every tag parses and at least one is not O. A tag set
 * with no such structure (part-of-speech tags, tone classes) is judged by token accuracy instead.
 * Chunk tags that only fit the other scheme are the user's to declare, not a reason to fall back.
 */
export function isChunkTagSet(tags: readonly string[], scheme: TagScheme): boolean {
  const fits = (s: TagScheme) =>
    tags.every((t) => parseSchemeTag(t, s) !== undefined) && tags.some((t) => t !== 'O');
  if (fits(scheme)) return true;
  if (scheme === 'BIO' && fits('BIOES')) {
    const odd = tags.filter((t) => parseSchemeTag(t, 'BIO') === undefined).slice(0, 5);
    throw new UserError(
      `dataset.tag_scheme: the tags ${odd.map((t) => JSON.stringify(t)).join(', ')} are BIOES tags; ` +
        'set "tag_scheme": "BIOES"',
    );
  }
  return false;
}

/**
 * The moves of well-formed sequences: an inside or end tag only continues a chunk of its own type, and
 * in BIOES a new chunk or O only follows a closed chunk or O.
 */
export function schemeConstraints(tags: readonly string[], scheme: TagScheme): CrfConstraints {
  const parsed = tags.map((t) => {
    const p = parseSchemeTag(t, scheme);
    if (!p) throw new UserError(`tag ${JSON.stringify(t)} is not a ${scheme} tag`);
    return p;
  });
  const continues = (to: Prefix) => to === 'I' || to === 'E';
  const open = (from: Prefix) => from === 'B' || from === 'I';
  return {
    transitions: parsed.map((from) =>
      parsed.map((to) => {
        if (continues(to.prefix)) return open(from.prefix) && from.type === to.type;
        // BIOES closes every chunk explicitly (E or S), so nothing new starts while one is open.
        return scheme === 'BIO' || !open(from.prefix);
      }),
    ),
    start: parsed.map((p) => !continues(p.prefix)),
    end: parsed.map((p) => scheme === 'BIO' || !open(p.prefix)),
  };
}
