import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface InputFile {
  file: string;
  /** Removes what was made for stdin; nothing for a given file. */
  cleanup: () => void;
}

/**
 * The file a command reads: the one given, else stdin saved to a temporary file (the readers take a
 * path, and report lines by file). `tmpPrefix` names the temporary folder ("alembic-predict-").
 */
export async function inputFile(input: string | undefined, tmpPrefix: string): Promise<InputFile> {
  if (input) return { file: input, cleanup: () => {} };
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const dir = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const file = path.join(dir, 'stdin');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    writeFileSync(file, Buffer.concat(chunks));
  } catch (e) {
    cleanup(); // e.g. ENOSPC: no half-written copy stays behind
    throw e;
  }
  return { file, cleanup };
}
