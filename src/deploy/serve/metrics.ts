/**
 * The few Prometheus metric kinds the service exports (counters, gauges, histograms), rendered in the
 * text exposition format 0.0.4. Small enough to own rather than pull in a client library.
 */

type Labels = Record<string, string>;

/** Rendered label keys by their raw form: a server asks for the same few label sets on every request. */
const labelKeys = new Map<string, string>();
const LABEL_KEY_CACHE_LIMIT = 4096;

/** The labels as rendered between braces, sorted by name with values escaped: `code="200",route="/predict"`. */
function labelKey(labels: Labels): string {
  let raw = '';
  for (const k in labels) raw += `${k}\u0000${labels[k]}\u0001`;
  let key = labelKeys.get(raw);
  if (key === undefined) {
    key = Object.keys(labels)
      .sort()
      .map((k) => `${k}="${escapeLabel(labels[k])}"`)
      .join(',');
    if (labelKeys.size < LABEL_KEY_CACHE_LIMIT) labelKeys.set(raw, key);
  }
  return key;
}

/** Label values escape backslash, double quote and newline (exposition format rules). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function braces(key: string): string {
  return key ? `{${key}}` : '';
}

/** Prometheus renders +Inf and integral floats its own way; everything else is plain JavaScript. */
function num(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Metric {
  render(): string;
}

abstract class Family implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}

  protected header(): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${this.type}\n`;
  }

  abstract render(): string;
}

export class Counter extends Family {
  private readonly values = new Map<string, number>();

  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }

  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    let s = this.header();
    for (const [k, v] of this.values) s += `${this.name}${braces(k)} ${num(v)}\n`;
    return s;
  }
}

/** A gauge whose value is read when scraped (queue depth, batches running). */
export class Gauge extends Family {
  private readonly sources = new Map<string, () => number>();

  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }

  track(labels: Labels, read: () => number): void {
    this.sources.set(labelKey(labels), read);
  }

  render(): string {
    let s = this.header();
    for (const [k, read] of this.sources) s += `${this.name}${braces(k)} ${num(read())}\n`;
    return s;
  }
}

interface HistogramSeries {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family {
  private readonly series = new Map<string, HistogramSeries>();

  /** `buckets`: ascending upper bounds; +Inf is added. */
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
    for (let i = 1; i < buckets.length; i++)
      if (!(buckets[i] > buckets[i - 1])) throw new RangeError(`${name}: buckets must ascend`);
  }

  observe(labels: Labels, value: number): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    // Counts are per bucket here and made cumulative when rendered.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    let out = this.header();
    for (const [k, s] of this.series) {
      const sep = k ? ',' : '';
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i];
        out += `${this.name}_bucket{${k}${sep}le="${num(b)}"} ${cumulative}\n`;
      });
      out += `${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}\n`;
      out += `${this.name}_sum${braces(k)} ${num(s.sum)}\n`;
      out += `${this.name}_count${braces(k)} ${s.count}\n`;
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }

  /** The body of GET /metrics. */
  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

/** Request latency buckets in seconds: sub-millisecond BOW answers up to slow Transformer queues. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The service's metrics, one registry per server. */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.add(
    new Counter('alembic_http_requests_total', 'HTTP requests answered, by route, model and status code.'),
  );
  readonly latency = this.registry.add(
    new Histogram(
      'alembic_http_request_duration_seconds',
      'Time from receiving a prediction request to sending its answer.',
      LATENCY_BUCKETS,
    ),
  );
  readonly texts = this.registry.add(
    new Counter('alembic_predicted_texts_total', 'Inputs predicted (a request may carry several).'),
  );
  readonly batchSize = this.registry.add(
    new Histogram(
      'alembic_batch_size',
      'Inputs per model call after micro-batching.',
      [1, 2, 4, 8, 16, 32, 64, 128, 256],
    ),
  );
  readonly batchSeconds = this.registry.add(
    new Histogram('alembic_batch_duration_seconds', 'Time of one model call.', LATENCY_BUCKETS),
  );
  readonly rejected = this.registry.add(
    new Counter('alembic_rejected_requests_total', 'Requests refused, by model and reason.'),
  );
  readonly queueDepth = this.registry.add(
    new Gauge('alembic_queue_depth', 'Inputs waiting for a batch, by model.'),
  );
}
