import { readFileSync } from 'node:fs';
import { UserError } from './errors.js';

/** Parses a JSON file the user wrote; `what` names it in the error when it cannot be read ("config file"). */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file}: cannot read the ${what}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
}
