/**
 * Every file under a directory (or a single file) with its bytes, so a test can assert that an operation
 * left a user's files exactly as they were.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (p: string, rel: string) => {
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(path.join(p, name), rel ? `${rel}/${name}` : name);
    } else files.set(rel, readFileSync(p).toString('base64'));
  };
  walk(root, '');
  return files;
}
