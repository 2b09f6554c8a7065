/**
 * `alembic cluster`: groups texts whose vectors from a siamese text_matching model have a cosine
 * similarity of at least --threshold. Two methods:
 *   components (default)  connected components of the graph with an edge for every pair ≥ threshold
 *                         (single linkage): independent of input order, but a chain a~b~c joins a and c
 *                         even when they are far apart.
 *   leader                greedy leader clustering: each text, in input order, joins the most similar
 *                         existing leader if that is ≥ threshold, else leads a new cluster. Every member
 *                         is within the threshold of its leader (no chaining); depends on the order.
 * Output: `cluster_id<TAB>text`, one line per input text in input order; ids count from 0 in order of
 * first appearance.
 */
import type { Command } from 'commander';
import { UserError } from '../util/errors.js';
import { loadMatchingModel, readTexts, unitLength } from './embed.js';
import { positiveInt, runCommand } from './run.js';

export type ClusterMethod = 'components' | 'leader';

export function registerCluster(program: Command): void {
  program
    .command('cluster')
    .description('group texts (one per line) by the cosine similarity of a text_matching model')
    .requiredOption('-m, --model <dir>', 'a text_matching model directory (bow, cnn, gru or lstm)')
    .requiredOption('-i, --input <file>', 'one text per line')
    .requiredOption('-t, --threshold <cosine>', 'texts at least this similar (−1..1) share a cluster')
    .option('--method <method>', 'components (connected components) or leader (greedy leader)', 'components')
    .option('--batch-size <n>', 'batch size', positiveInt('--batch-size'), 64)
    .action((opts: { model: string; input: string; threshold: string; method: string; batchSize: number }) =>
      runCommand(async () => {
        // Checked here rather than by a commander parser, so a bad value is a UserError (exit 2).
        const threshold = cosineFlag(opts.threshold);
        if (opts.method !== 'components' && opts.method !== 'leader') {
          throw new UserError(`--method: expected "components" or "leader", got "${opts.method}"`);
        }
        const { task, loaded } = loadMatchingModel(opts.model);
        try {
          if (task.head === 'mlp') {
            process.stderr.write(
              'warning: this model scores pairs with an MLP head; the threshold applies to the cosine of its ' +
                'text vectors, which training did not calibrate (model.matching_head "cosine" does)\n',
            );
          }
          const texts = await readTexts(opts.input);
          const vectors = task.embed(loaded.model, texts, opts.batchSize);
          const ids = clusterByCosine(vectors, threshold, opts.method as ClusterMethod);
          process.stdout.write(texts.map((t, i) => `${ids[i]}\t${t}`).join('\n') + '\n');
        } finally {
          loaded.model.dispose();
        }
      })(),
    );
}

function cosineFlag(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < -1 || n > 1) {
    throw new UserError(`--threshold: expected a cosine similarity between -1 and 1, got "${v}"`);
  }
  return n;
}

/** Cluster ids (0, 1, … by first appearance) of vectors grouped at cosine ≥ threshold. */
export function clusterByCosine(vectors: number[][], threshold: number, method: ClusterMethod): number[] {
  const unit = vectors.map(unitLength);
  return method === 'leader' ? leaderClusters(unit, threshold) : componentClusters(unit, threshold);
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function componentClusters(unit: number[][], threshold: number): number[] {
  const parent = unit.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]]; // path halving
      i = parent[i];
    }
    return i;
  };
  for (let i = 0; i < unit.length; i++) {
    for (let j = i + 1; j < unit.length; j++) {
      if (dot(unit[i], unit[j]) >= threshold) parent[root(j)] = root(i);
    }
  }
  return firstAppearanceIds(unit.map((_, i) => root(i)));
}

function leaderClusters(unit: number[][], threshold: number): number[] {
  const leaders: number[] = [];
  return unit.map((v, i) => {
    let best = -1;
    let bestSimilarity = -Infinity;
    leaders.forEach((l, k) => {
      const s = dot(v, unit[l]);
      if (s > bestSimilarity) [best, bestSimilarity] = [k, s];
    });
    if (best >= 0 && bestSimilarity >= threshold) return best;
    leaders.push(i);
    return leaders.length - 1;
  });
}

/** Renumbers group keys 0, 1, … in order of first appearance. */
function firstAppearanceIds(keys: number[]): number[] {
  const ids = new Map<number, number>();
  return keys.map((k) => {
    if (!ids.has(k)) ids.set(k, ids.size);
    return ids.get(k)!;
  });
}
