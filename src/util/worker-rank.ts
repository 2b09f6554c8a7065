/**
 * Which worker of a group this process is, from the environment torchrun (and alembic's own launcher)
 * sets: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT. No variables means a
 * group of one. Work that needs no collectives (sharded labelling) only reads the ranks; the rendezvous
 * address is passed on for work that does.
 */
import { UserError } from './errors.js';

export interface WorkerRank {
  rank: number;
  world: number;
  localRank: number;
  /** Workers on this machine (threads are shared among them). */
  localWorld: number;
  masterAddr?: string;
  masterPort?: number;
}

export function workerRank(env: NodeJS.ProcessEnv = process.env): WorkerRank {
  const read = (name: string, min: number, fallback: number) => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new UserError(`environment ${name}=${v}: expected an integer ≥ ${min}`);
    return n;
  };
  const world = read('WORLD_SIZE', 1, 1);
  const rank = read('RANK', 0, 0);
  if (rank >= world) throw new UserError(`environment RANK=${rank}: must be below WORLD_SIZE=${world}`);
  const localWorld = read('LOCAL_WORLD_SIZE', 1, world);
  const localRank = read('LOCAL_RANK', 0, rank % localWorld);
  const port = env.MASTER_PORT ? read('MASTER_PORT', 1, 0) : undefined;
  return { rank, world, localRank, localWorld, masterAddr: env.MASTER_ADDR || undefined, masterPort: port };
}
