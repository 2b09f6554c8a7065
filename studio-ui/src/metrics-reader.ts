// Reads training records into curves. The same reader serves the live stream (the library's TrainEvent:
// {type:'step', loss} / {type:'eval', metrics}) and a run's stored metrics.jsonl lines ({type:'train'} /
// {type:'eval', ...metrics}), keyed by step so a record seen twice (history + stream) counts once.

type Rec = Record<string, unknown>;

/** Dev metrics in the order the curve prefers them when the run's config names none. */
const PREFERRED = [
  'macro_f1',
  'accuracy',
  'f1',
  'micro_f1',
  'span_f1',
  'exact_match',
  'bleu',
  'rouge_l',
  'pearson',
  'spearman',
  'auc',
  'perplexity',
];
const NOT_METRICS = new Set([
  'type',
  'step',
  'epoch',
  'best',
  'time',
  'lr',
  'totalSteps',
  'seconds',
  'elapsed',
]);

export interface Curves {
  loss: Map<number, number>;
  dev: Map<number, number>;
  devMetric?: string;
  step?: number;
  totalSteps?: number;
  epoch?: number;
}

export function emptyCurves(): Curves {
  return { loss: new Map(), dev: new Map() };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function pickMetric(metrics: Rec, wanted?: string): string | undefined {
  if (wanted && num(metrics[wanted]) !== undefined) return wanted;
  const pref = PREFERRED.find((m) => num(metrics[m]) !== undefined);
  if (pref) return pref;
  return Object.keys(metrics).find(
    (k) => !NOT_METRICS.has(k) && k !== 'loss' && num(metrics[k]) !== undefined,
  );
}

/** Adds one record to the curves; returns false when it carried no point. */
export function addRecord(c: Curves, rec: unknown, wantedMetric?: string): boolean {
  if (!rec || typeof rec !== 'object') return false;
  const r = rec as Rec;
  const step = num(r.step) ?? num(r.global_step);
  const type = String(r.type ?? r.kind ?? '');
  if (step === undefined) return false;
  if (num(r.totalSteps) !== undefined) c.totalSteps = r.totalSteps as number;
  if (num(r.epoch) !== undefined) c.epoch = r.epoch as number;
  if (type === 'eval' || type === 'dev') {
    const metrics = (r.metrics && typeof r.metrics === 'object' ? r.metrics : r) as Rec;
    const name = c.devMetric ?? pickMetric(metrics, wantedMetric);
    const v = name ? num(metrics[name]) : undefined;
    if (name === undefined || v === undefined) return false;
    c.devMetric = name;
    c.dev.set(step, v);
    c.step = Math.max(c.step ?? 0, step);
    return true;
  }
  if ((type === 'train' || type === 'step' || type === '') && num(r.loss) !== undefined) {
    c.loss.set(step, r.loss as number);
    c.step = Math.max(c.step ?? 0, step);
    return true;
  }
  return false;
}

/** Every record of a metrics answer: a list, JSONL text, or an object of lists ({train: [...], dev: [...]}). */
export function recordsOf(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  if (typeof data === 'string')
    return data
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((l) => {
        try {
          return [JSON.parse(l)];
        } catch {
          return [];
        }
      });
  if (data && typeof data === 'object') {
    const o = data as Rec;
    if (Array.isArray(o.records)) return o.records;
    if (Array.isArray(o.metrics)) return o.metrics;
    return Object.entries(o).flatMap(([k, v]) =>
      Array.isArray(v)
        ? v.map((x) =>
            x && typeof x === 'object' && !('type' in x) ? { type: k === 'dev' ? 'eval' : k, ...x } : x,
          )
        : [],
    );
  }
  return [];
}

export function curvesOf(data: unknown, wantedMetric?: string): Curves {
  const c = emptyCurves();
  for (const r of recordsOf(data)) addRecord(c, r, wantedMetric);
  return c;
}

export function xy(m: Map<number, number>): { x: number[]; y: number[] } {
  const steps = [...m.keys()].sort((a, b) => a - b);
  return { x: steps, y: steps.map((s) => m.get(s)!) };
}
