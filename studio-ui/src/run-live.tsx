// One run, live: its status, progress, loss and dev-metric curves (stored history first, then the
// server-sent event stream), its warnings (collapse to one class, early stop), and stop/resume.
import { useEffect, useState } from 'preact/hooks';
import { errorText, get, post } from './api-client.js';
import { CurveChart } from './curve-chart.js';
import { addRecord, curvesOf, emptyCurves, xy, type Curves, type MetricRecord } from './metrics-reader.js';
import type { RunDetail } from './studio-contract.js';
import { ErrorLine, Status, StatusBadge, useT } from './widgets.js';

/** A job's end arrives as an event named after its final status. */
const FINAL = new Set(['done', 'failed', 'stopped', 'interrupted']);
/** The stream's event types (EventSource hands over only the named events it listens for). */
const EVENT_NAMES = ['started', 'step', 'eval', 'checkpoint', 'train_end', 'warning', 'log', ...FINAL];

export function RunLive({ runId }: { runId: string }) {
  const { t } = useT();
  const [run, setRun] = useState<RunDetail | null>(null);
  const [curves, setCurves] = useState<Curves>(emptyCurves());
  const [warnings, setWarnings] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);

  const loadRun = () =>
    get<RunDetail>(`/api/runs/${runId}`)
      .then(setRun)
      .catch((e) => setError(errorText(e)));

  useEffect(() => {
    let closed = false;
    setCurves(emptyCurves());
    setWarnings([]);
    loadRun();
    // The stored log (metrics.jsonl); `final`: the job has ended, so its log is complete and replaces the
    // streamed points (the stream thins steps out; the log has the trainer's windowed averages).
    const loadStored = (final: boolean) =>
      get<MetricRecord[]>(`/api/runs/${runId}/metrics`)
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
            step: Math.max(c.step ?? 0, stored.step ?? 0),
          }));
        })
        .catch((e) => setError(errorText(e)));
    loadStored(false);
    // The run's stream spans all its jobs (training, resumes, exports): stored events first, then live.
    const es = new EventSource(`/api/runs/${runId}/events`);
    const onEvent = (ev: MessageEvent) => {
      const r = JSON.parse(ev.data) as MetricRecord & { message?: string; kind?: string; error?: string };
      if (r.type === 'failed' && r.error) setError(r.error);
      if (r.type === 'warning' && r.message)
        setWarnings((w) => (w.includes(r.message!) ? w : [...w, r.message!]));
      // A training job (a resume too) starting; exports share the run's stream but not its status.
      if (r.type === 'started' && r.kind !== 'export') setRun((x) => x && { ...x, status: 'running' });
      if (FINAL.has(r.type)) {
        loadRun();
        loadStored(true);
      }
      setCurves((c) => {
        const n: Curves = { ...c, loss: new Map(c.loss), dev: new Map(c.dev) };
        return addRecord(n, r) ? n : c;
      });
    };
    for (const name of EVENT_NAMES) es.addEventListener(name, onEvent as EventListener);
    return () => {
      closed = true;
      es.close();
    };
  }, [runId]);

  const status = run?.status ?? '…';
  const running = !FINAL.has(status) && status !== '…';

  const act = async (what: 'stop' | 'resume') => {
    setError(null);
    try {
      await post(`/api/runs/${runId}/${what}`);
      await loadRun();
    } catch (e) {
      setError(errorText(e));
    }
  };

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
        {t('train.status')}: <StatusBadge status={status} />
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
        <a class="button" href={`/api/runs/${runId}/report`} target="_blank" rel="noopener">
          {t('runs.report')}
        </a>
      </p>
      <ErrorLine error={error} />
    </div>
  );
}
