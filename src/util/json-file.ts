import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';
import { isSystemError, systemErrorWhat } from './system-error.js';

/** Parses a JSON file the user wrote; `what` names it in the error when it cannot be read ("config file"). */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = isSystemError(e) ? `: ${systemErrorWhat(e)}` : '';
    throw new UserError(`${file}: cannot read the ${what}${why}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8 quotes the text around the error, line breaks included: escaped, so the message stays one line.
    const message = (e as Error).message.replace(/[\r\n\u2028\u2029]/g, (c) =>
      JSON.stringify(c).slice(1, -1),
    );
    throw new UserError(`${file}: not valid JSON: ${message}`);
  }
}
