/**
 * Just enough MIME to turn a raw email into the text a reader sees: the decoded Subject and the body's
 * text parts. Transfer encodings (quoted-printable, base64) are undone and decoded with the part's
 * charset; HTML is reduced to its text; attachments and other non-text parts are left out; of the
 * alternatives in multipart/alternative, the plain text one is preferred.
 */

export interface EmailText {
  subject: string;
  body: string;
}

interface Entity {
  headers: Map<string, string>;
  body: string;
}

interface ContentType {
  type: string;
  params: Map<string, string>;
}

/** Nesting deeper than this is not real mail; stop rather than recurse without end. */
const MAX_DEPTH = 10;

export function emailText(raw: string): EmailText {
  const entity = parseEntity(raw.replace(/\r\n?/g, '\n'));
  return {
    subject: decodeEncodedWords(entity.headers.get('subject') ?? ''),
    body: entityText(entity, 0),
  };
}

/** Splits headers from body at the first blank line and unfolds continued header lines. */
function parseEntity(text: string): Entity {
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 2);
  const headers = new Map<string, string>();
  let name: string | undefined;
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && name !== undefined) {
      headers.set(name, headers.get(name) + ' ' + line.trim());
      continue;
    }
    const match = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!match) {
      name = undefined; // an mbox "From " line or junk: not a header
      continue;
    }
    name = match[1].toLowerCase();
    if (headers.has(name))
      name = undefined; // keep the first of repeated headers (Received, ...)
    else headers.set(name, match[2]);
  }
  return { headers, body };
}

function entityText(entity: Entity, depth: number): string {
  const contentType = parseContentType(entity.headers.get('content-type'));
  const { type } = contentType;
  if (depth < MAX_DEPTH && type.startsWith('multipart/')) {
    const boundary = contentType.params.get('boundary');
    if (boundary) return multipartText(entity.body, boundary, type === 'multipart/alternative', depth);
  }
  if (depth < MAX_DEPTH && type === 'message/rfc822') {
    const inner = parseEntity(entity.body);
    return [decodeEncodedWords(inner.headers.get('subject') ?? ''), entityText(inner, depth + 1)].join('\n');
  }
  if (isAttachment(entity) || !(type === 'text/plain' || type === 'text/html' || type === 'text')) return '';
  const text = decodeBody(entity, contentType.params.get('charset'));
  // Some senders label HTML as plain text; a body that opens like an HTML page is read as one.
  const html = type === 'text/html' || /^\s*<(!doctype\s+html|html)\b/i.test(text);
  return html ? htmlToText(text) : text;
}

function multipartText(body: string, boundary: string, alternative: boolean, depth: number): string {
  const parts: Entity[] = [];
  let current: string[] | undefined;
  for (const line of body.split('\n')) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}` || trimmed === `--${boundary}--`) {
      if (current) parts.push(parseEntity(current.join('\n')));
      current = trimmed.endsWith(`${boundary}--`) ? undefined : [];
      if (current === undefined) break;
    } else current?.push(line);
  }
  if (current && current.length > 0) parts.push(parseEntity(current.join('\n'))); // no closing delimiter
  const texts = parts
    .map((part) => ({ part, text: entityText(part, depth + 1).trim() }))
    .filter((p) => p.text);
  if (!alternative) return texts.map((p) => p.text).join('\n');
  const plain = texts.find((p) => parseContentType(p.part.headers.get('content-type')).type === 'text/plain');
  return (plain ?? texts[texts.length - 1])?.text ?? '';
}

function isAttachment(entity: Entity): boolean {
  return /^\s*attachment/i.test(entity.headers.get('content-disposition') ?? '');
}

function parseContentType(value: string | undefined): ContentType {
  if (!value) return { type: 'text/plain', params: new Map() };
  const type = (/^\s*([^;\s]+)/.exec(value)?.[1] ?? 'text/plain').toLowerCase();
  const params = new Map<string, string>();
  for (const m of value.matchAll(/;\s*([\w.-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g)) {
    params.set(m[1].toLowerCase(), m[2] ?? m[3]);
  }
  return { type, params };
}

/** Undoes the transfer encoding; bytes are then decoded with the charset (7bit/8bit text is already text). */
function decodeBody(entity: Entity, charset: string | undefined): string {
  const encoding = (entity.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (encoding === 'quoted-printable') return decodeBytes(quotedPrintableBytes(entity.body, false), charset);
  if (encoding === 'base64')
    return decodeBytes(Buffer.from(entity.body.replace(/\s+/g, ''), 'base64'), charset);
  return entity.body;
}

/** Quoted-printable (RFC 2045) to bytes; `header` is the RFC 2047 "Q" variant, where `_` is a space. */
function quotedPrintableBytes(text: string, header: boolean): Uint8Array {
  const source = header ? text.replace(/_/g, ' ') : text.replace(/=[ \t]*\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x3d && /^[0-9A-Fa-f]{2}$/.test(source.slice(i + 1, i + 3))) {
      bytes.push(parseInt(source.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else bytes.push(...Buffer.from(source[i], 'utf8'));
  }
  return Uint8Array.from(bytes);
}

function decodeBytes(bytes: Uint8Array, charset: string | undefined): string {
  const label = (charset ?? '').trim().toLowerCase().replace(/\*.*$/, '');
  try {
    return new TextDecoder(label || 'windows-1252').decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes); // unknown charset: the usual guess for old mail
  }
}

/** Decodes RFC 2047 encoded words (`=?charset?B?...?=`) in a header; spaces between two words vanish. */
export function decodeEncodedWords(value: string): string {
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1')
    .replace(word, (_, charset, kind, data) => {
      const bytes =
        kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : quotedPrintableBytes(data, true);
      return decodeBytes(bytes, charset);
    });
}

const ENTITIES: Record<string, string> = {
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  copy: '©',
  reg: '®',
  trade: '™',
  mdash: '—',
  ndash: '–',
  hellip: '…',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  pound: '£',
  euro: '€',
};

/** The visible text of an HTML body: no scripts, styles or comments; block ends become line breaks. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|\/p|\/div|\/tr|\/li|\/h\d|\/table|p|li|tr)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (whole, name: string) => {
      if (name[0] === '#') {
        const code =
          name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
      }
      const key = name.toLowerCase();
      return Object.hasOwn(ENTITIES, key) ? ENTITIES[key] : whole;
    });
}
