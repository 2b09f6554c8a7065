/**
 * Where a JSON syntax error is, as line and column. V8 reports "at position N" for most errors but not
 * all (an unexpected token gives only a snippet), so when it does not, a small validating scanner finds
 * the first offending character itself.
 */
import { InputError } from '../../util/errors.js';

export interface TextPosition {
  line: number;
  column: number;
}

/** JSON.parse of a file's text (without its BOM), a syntax error becoming an InputError at its line and column. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const { problem, position } = describeJsonError(text, error);
    throw new InputError(
      { file, line: position.line },
      `invalid JSON at column ${position.column}: ${problem}`,
    );
  }
}

/** The V8 message without its "in JSON at position N" tail, and the position when known. */
export function describeJsonError(
  text: string,
  error: SyntaxError,
): { problem: string; position: TextPosition } {
  const match = /^(.*?)(?: in JSON)? at position (\d+)/s.exec(error.message);
  let offset: number;
  let problem: string;
  if (match) {
    problem = match[1];
    offset = Number(match[2]);
  } else {
    problem = error.message.replace(
      /^Unexpected token '(.+?)', .* is not valid JSON$/s,
      "Unexpected token '$1'",
    );
    offset = findJsonErrorOffset(text);
    if (offset < 0) offset = text.length;
  }
  return { problem, position: positionAt(text, offset) };
}

/** 1-based line and column (in UTF-16 code units) of a string offset. */
export function positionAt(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

class JsonSyntaxFailure {
  constructor(readonly offset: number) {}
}

/** Offset of the first character that makes `text` invalid JSON, or -1 when it is valid. */
export function findJsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (at = i): never => {
    throw new JsonSyntaxFailure(at);
  };
  const skipSpace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r'))
      i++;
  };
  const expect = (c: string): void => {
    if (text[i] !== c) fail();
    i++;
  };
  const string = (): void => {
    expect('"');
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') fail();
      if (c === '\\') {
        const next = text[i + 1];
        if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail(i + 1);
      } else i++;
    }
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '{')
      return container('}', () => {
        skipSpace();
        string();
        skipSpace();
        expect(':');
        value();
      });
    if (c === '[') return container(']', value);
    if (c === '"') return string();
    numberPattern.lastIndex = i;
    if (numberPattern.test(text)) {
      i = numberPattern.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail();
  };
  const container = (close: string, member: () => void): void => {
    i++;
    skipSpace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skipSpace();
      if (text[i] === ',') i++;
      else return expect(close);
    }
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail();
    return -1;
  } catch (error) {
    if (error instanceof JsonSyntaxFailure) return error.offset;
    if (error instanceof RangeError) return text.length; // nested too deep to scan; blame the end
    throw error;
  }
}
