/**
 * Latency percentiles and throughput from timed runs.
 */

export interface LatencySummary {
  /** Milliseconds per run at the 50th, 95th and 99th percentile. */
  p50: number;
  p95: number;
  p99: number;
  /** Inputs per second over the whole measurement (a run of batch B counts B). */
  qps: number;
  runs: number;
}

/** The q-quantile (0..1) of ascending `sorted` values by the nearest-rank method. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(runMs: readonly number[], batch: number, totalSeconds: number): LatencySummary {
  const sorted = [...runMs].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    qps: (batch * runMs.length) / totalSeconds,
    runs: runMs.length,
  };
}

export interface TimingOptions {
  /** Seconds of warm-up runs first (not measured). */
  warmupSeconds: number;
  /** Seconds of measured runs (at least minRuns are made). */
  seconds: number;
  minRuns: number;
}

/** Runs `once` back to back: a warm-up, then measured runs; each run is timed on its own. */
export async function timeRuns(
  once: () => Promise<unknown> | unknown,
  batch: number,
  opts: TimingOptions,
): Promise<LatencySummary> {
  const warmEnd = performance.now() + opts.warmupSeconds * 1000;
  do await once();
  while (performance.now() < warmEnd);
  const samples: number[] = [];
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  let last = start;
  while (last < end || samples.length < opts.minRuns) {
    await once();
    const now = performance.now();
    samples.push(now - last);
    last = now;
  }
  return summarize(samples, batch, (last - start) / 1000);
}

/**
 * Times several runners against each other: after a warm-up of each, `rounds` rounds in which each runs
 * for its share of the time in turn, so a change in machine load during the measurement hits all alike.
 */
export async function timeInterleaved(
  onces: (() => Promise<unknown> | unknown)[],
  batch: number,
  opts: TimingOptions,
  rounds = 6,
): Promise<LatencySummary[]> {
  for (const once of onces) {
    const warmEnd = performance.now() + opts.warmupSeconds * 1000;
    do await once();
    while (performance.now() < warmEnd);
  }
  const samples = onces.map(() => [] as number[]);
  const total = onces.map(() => 0);
  const slice = (opts.seconds * 1000) / rounds;
  const minPerRound = Math.ceil(opts.minRuns / rounds);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < onces.length; i++) {
      const start = performance.now();
      let last = start;
      let n = 0;
      while (last - start < slice || n < minPerRound) {
        await onces[i]();
        const now = performance.now();
        samples[i].push(now - last);
        last = now;
        n++;
      }
      total[i] += last - start;
    }
  }
  return samples.map((s, i) => summarize(s, batch, total[i] / 1000));
}
