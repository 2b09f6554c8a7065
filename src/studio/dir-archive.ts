/**
 * A model or export folder as a .tar.gz download, streamed by the `tar` package (never built in memory).
 * Symbolic links are stored as links, not followed, so an archive holds nothing from outside the folder;
 * lock files are left out.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import { create } from 'tar';
import { LOCK_FILE } from '../util/dir-lock.js';

export function tarGz(dir: string, nameInArchive: string): Readable {
  return create(
    {
      gzip: true,
      cwd: path.dirname(dir),
      portable: true,
      follow: false,
      filter: (p) => path.basename(p) !== LOCK_FILE,
      // The folder appears under the download's name, whatever it is called on disk.
      onWriteEntry: (entry) => {
        entry.path = nameInArchive + entry.path.slice(path.basename(dir).length);
      },
    },
    [path.basename(dir)],
  ) as unknown as Readable;
}
