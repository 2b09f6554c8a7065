/**
 * Replaces a small file so that a reader (or a restart after a crash) sees either the old content or the
 * new one, never a torn mix: write a temp file beside it, fsync, rename over. Progress and completion
 * markers rely on it.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

export function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
