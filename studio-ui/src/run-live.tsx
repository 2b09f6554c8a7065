// One run, live: its status, progress, loss and dev-metric curves (stored history first, then the
// server-sent event stream), its warnings (collapse to one class, early stop), and stop/resume.
import { useEffect, useState } from 'preact/hooks';
import { enc, errorText, get, post } from './api-client.js';
import { CurveChart } from './curve-chart.js';
import { addRecord, curvesOf, emptyCurves, xy, type Curves } from './metrics-reader.js';
import { ErrorLine, Status, useT } from './widgets.js';

export interface RunInfo {
  id: string;
  name?: string;
  status?: string;
  task?: string;
  net?: string;
  metrics?: Record<string, unknown>;
  warnings?: unknown[];
  warning?: string | null;
  error?: string | null;
  created?: string | number;
  [k: string]: unknown;
}

/** The event names the stream may use; EventSource only hands over named events it listens for. */
const EVENT_NAMES = [
  'started',
  'step',
  'train',
  'eval',
  'status',
  'warning',
  'log',
  'metric',
  'checkpoint',
  'done',
  'failed',
  'stopped',
  'interrupted',
  'end',
];
const FINAL = new Set([
  'done',
  'finished',
  'completed',
  'succeeded',
  'failed',
  'error',
  'stopped',
  'interrupted',
]);

export function warningsOf(run: RunInfo | null): string[] {
  if (!run) return [];
  const ws = [...(run.warnings ?? []), ...(run.warning ? [run.warning] : [])];
  return ws.map((w) =>
    typeof w === 'string' ? w : String((w as Record<string, unknown>)?.message ?? JSON.stringify(w)),
  );
}

export function RunLive({ runId }: { runId: string }) {
  const { t } = useT();
  const [run, setRun] = useState<RunInfo | null>(null);
  const [curves, setCurves] = useState<Curves>(emptyCurves());
  const [live, setLive] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [gen, setGen] = useState(0);

  const loadRun = () =>
    get<RunInfo>(`/api/runs/${enc(runId)}`)
      .then((r) => setRun((r as { run?: RunInfo }).run ?? r))
      .catch((e) => setError(errorText(e)));

  useEffect(() => {
    let closed = false;
    setCurves(emptyCurves());
    loadRun();
    // The stored log (metrics.jsonl); `final`: the run has ended, so its log is complete and replaces the
    // streamed points (the stream thins steps out; the log has the trainer's windowed averages).
    const loadStored = (final: boolean) =>
      get<unknown>(`/api/runs/${enc(runId)}/metrics`)
        .then((m) => {
          if (closed) return;
          const stored = curvesOf(m);
          if (final && stored.loss.size > 0)
            return setCurves((c) => ({ ...stored, totalSteps: c.totalSteps ?? stored.totalSteps }));
          setCurves((c) => ({
            ...c,
            loss: new Map([...stored.loss, ...c.loss]),
            dev: new Map([...stored.dev, ...c.dev]),
            devMetric: c.devMetric ?? stored.devMetric,
            totalSteps: c.totalSteps ?? stored.totalSteps,
            step: Math.max(c.step ?? 0, stored.step ?? 0),
          }));
        })
        .catch(() => undefined);
    loadStored(false);
    const es = new EventSource(`/api/runs/${enc(runId)}/events`);
    const onData = (ev: MessageEvent) => {
      let rec: unknown;
      try {
        rec = JSON.parse(ev.data);
      } catch {
        return;
      }
      const r = (rec ?? {}) as Record<string, unknown>;
      const type = String(r.type ?? ev.type);
      if (type === 'warning' || typeof r.warning === 'string')
        setLive((w) => [...new Set([...w, String(r.message ?? r.warning ?? '')])].filter(Boolean));
      // A training job (a resume too) starting; an export's jobs share the run's stream but not its status.
      if (type === 'started' && r.kind !== 'export') setRun((x) => (x ? { ...x, status: 'running' } : x));
      // A job's end arrives as an event named after its final status (done, failed, stopped, ...).
      if (FINAL.has(type)) {
        setRun((x) => (x ? { ...x, status: type } : x));
        loadStored(true);
      }
      if (type === 'status' || FINAL.has(type) || typeof r.status === 'string') {
        if (typeof r.status === 'string') setRun((x) => (x ? { ...x, status: r.status as string } : x));
        loadRun();
      }
      setCurves((c) => {
        const n: Curves = { ...c, loss: new Map(c.loss), dev: new Map(c.dev) };
        return addRecord(n, { ...r, type: r.type ?? ev.type }) ? n : c;
      });
    };
    es.onmessage = onData;
    for (const name of EVENT_NAMES) es.addEventListener(name, onData as EventListener);
    return () => {
      closed = true;
      es.close();
    };
  }, [runId, gen]);

  const status = run?.status ?? '…';
  const running = !FINAL.has(status) && status !== '…';

  const act = async (what: 'stop' | 'resume') => {
    setError(null);
    try {
      await post(`/api/runs/${enc(runId)}/${what}`);
      await loadRun();
      if (what === 'resume') setGen((g) => g + 1);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const warnings = [...new Set([...warningsOf(run), ...live])];
  const loss = xy(curves.loss);
  const dev = xy(curves.dev);
  const pct =
    curves.totalSteps && curves.step
      ? Math.min(100, Math.round((100 * curves.step) / curves.totalSteps))
      : undefined;
  return (
    <div class="live" data-testid="run-live" data-status={status} data-step={curves.step}>
      <h3>
        {t('train.run')} <span class="mono">{run?.name ?? runId}</span>
      </h3>
      <Status testId="run-status">
        {t('train.status')}: <strong class={`st st-${status}`}>{status}</strong>
        {curves.step !== undefined && (
          <>
            {' · '}
            {t('train.step')} {curves.step}
            {curves.totalSteps ? ` / ${curves.totalSteps}` : ''}
          </>
        )}
        {curves.devMetric &&
          dev.y.length > 0 &&
          ` · ${curves.devMetric} ${dev.y[dev.y.length - 1].toFixed(4)}`}
      </Status>
      {pct !== undefined && <progress max={100} value={pct} aria-label={t('train.progress')} />}
      {run?.error && <ErrorLine error={String(run.error)} />}
      {warnings.length > 0 && (
        <ul class="warnings" data-testid="run-warnings">
          {warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <div class="two">
        <CurveChart
          title={t('train.loss')}
          xLabel={t('train.step')}
          yLabel="loss"
          series={[{ label: 'loss', ...loss }]}
          testId="loss-chart"
        />
        <CurveChart
          title={`${t('train.dev')}${curves.devMetric ? ` (${curves.devMetric})` : ''}`}
          xLabel={t('train.step')}
          yLabel={curves.devMetric ?? ''}
          series={[{ label: curves.devMetric ?? 'dev', ...dev }]}
          testId="dev-chart"
        />
      </div>
      <p class="actions">
        <button type="button" data-testid="stop" onClick={() => act('stop')} disabled={!running}>
          {t('train.stop')}
        </button>
        <button
          type="button"
          data-testid="resume"
          onClick={() => act('resume')}
          disabled={running || run?.resumable === false}
        >
          {t('train.resume')}
        </button>
        <a class="button" href={`/api/runs/${enc(runId)}/report`} target="_blank" rel="noopener">
          {t('runs.report')}
        </a>
      </p>
      <ErrorLine error={error} />
    </div>
  );
}
