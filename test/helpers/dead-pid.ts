/** The id of a process that has ended (spawned and waited for): what a killed run leaves in its files. */
import { spawnSync } from 'node:child_process';

export function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}
