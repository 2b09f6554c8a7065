// Reads training records into curves. The same reader serves the live stream (step events {type:'step',
// loss} and eval events {type:'eval', metrics}) and a run's stored metrics.jsonl lines ({type:'train',
// loss} and {type:'eval', ...metrics}), keyed by step so a record seen twice (history + stream) counts once.

/** A metrics.jsonl line or a stream event: a type, a step, and numbers. */
export interface MetricRecord {
  type: string;
  step: number;
  loss?: number;
  totalSteps?: number;
  metrics?: Record<string, number>;
  [name: string]: unknown;
}

/** The dev metric a curve shows, first present: the metrics early stopping uses by default, then others. */
const PREFERRED = ['macro_f1', 'accuracy', 'f1', 'span_f1', 'exact_match', 'bleu', 'spearman', 'perplexity'];

export interface Curves {
  loss: Map<number, number>;
  dev: Map<number, number>;
  devMetric?: string;
  step?: number;
  totalSteps?: number;
}

export function emptyCurves(): Curves {
  return { loss: new Map(), dev: new Map() };
}

/** Adds one record to the curves; returns false when it carried no point. */
export function addRecord(c: Curves, r: MetricRecord): boolean {
  if (typeof r.step !== 'number') return false;
  if (typeof r.totalSteps === 'number') c.totalSteps = r.totalSteps;
  if (r.type === 'eval') {
    const metrics = (r.metrics ?? r) as Record<string, unknown>;
    const name = c.devMetric ?? PREFERRED.find((m) => typeof metrics[m] === 'number');
    if (name === undefined || typeof metrics[name] !== 'number') return false;
    c.devMetric = name;
    c.dev.set(r.step, metrics[name] as number);
  } else if ((r.type === 'train' || r.type === 'step') && typeof r.loss === 'number') {
    c.loss.set(r.step, r.loss);
  } else return false;
  c.step = Math.max(c.step ?? 0, r.step);
  return true;
}

export function curvesOf(records: MetricRecord[]): Curves {
  const c = emptyCurves();
  for (const r of records) addRecord(c, r);
  return c;
}

export function xy(m: Map<number, number>): { x: number[]; y: number[] } {
  const steps = [...m.keys()].sort((a, b) => a - b);
  return { x: steps, y: steps.map((s) => m.get(s)!) };
}
