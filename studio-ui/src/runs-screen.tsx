// Runs: every run the workspace holds (they survive a studio restart), their metrics, curves of the
// selected runs overlaid for comparison, each run's report, and deletion that asks for the run's name.
import { useEffect, useState } from 'preact/hooks';
import { api, enc, errorText, get } from './api-client.js';
import { CurveChart } from './curve-chart.js';
import { curvesOf, xy, type Curves, type MetricRecord } from './metrics-reader.js';
import type { ScreenProps } from './shared-state.js';
import type { RunSummary } from './studio-contract.js';
import { ErrorLine, Field, Status, StatusBadge, useT } from './widgets.js';

/** A run's best dev metrics, the first two (the run's own metric comes first). */
function headline(r: RunSummary): string {
  return Object.entries(r.best ?? {})
    .slice(0, 2)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(' · ');
}

export function RunsScreen({ shared, update, go }: ScreenProps) {
  const { t } = useT();
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [selected, setSelected] = useState<number[]>([]);
  const [curves, setCurves] = useState<Record<number, Curves>>({});
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<RunSummary | null>(null);
  const [confirm, setConfirm] = useState('');
  const [note, setNote] = useState<string | null>(null);

  const refresh = () =>
    get<RunSummary[]>('/api/runs')
      .then(setRuns)
      .catch((e) => setError(errorText(e)));
  useEffect(() => {
    refresh();
  }, []);

  useEffect(() => {
    for (const id of selected)
      if (!curves[id])
        get<MetricRecord[]>(`/api/runs/${id}/metrics`)
          .then((m) => setCurves((c) => ({ ...c, [id]: curvesOf(m) })))
          .catch((e) => setError(errorText(e)));
  }, [selected.join(',')]);

  const toggle = (id: number, on: boolean) =>
    setSelected((s) => (on ? [...s, id] : s.filter((x) => x !== id)));

  const remove = async (e: Event) => {
    e.preventDefault();
    if (!deleting) return;
    try {
      await api('DELETE', `/api/runs/${deleting.id}?confirm=${enc(confirm)}`);
      setNote(`${t('runs.deleted')} ${deleting.name}`);
      setSelected((s) => s.filter((x) => x !== deleting.id));
      if (shared.runId === String(deleting.id)) update({ runId: undefined });
      setDeleting(null);
      setConfirm('');
      refresh();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const nameOf = (id: number) => runs.find((r) => r.id === id)?.name ?? String(id);
  const chosen = selected.filter((id) => curves[id]);
  const devName = chosen.map((id) => curves[id].devMetric).find(Boolean) ?? 'dev';

  return (
    <section aria-labelledby="runs-h">
      <h2 id="runs-h" tabIndex={-1}>
        {t('runs.title')}
      </h2>
      <p class="lead">{t('runs.lead')}</p>
      <ErrorLine error={error} />
      {note && <Status>{note}</Status>}
      <div class="scroll">
        <table class="grid runs" data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col">{t('runs.compare')}</th>
              <th scope="col">{t('train.name')}</th>
              <th scope="col">{t('train.status')}</th>
              <th scope="col">{t('advice.task')}</th>
              <th scope="col">{t('train.net')}</th>
              <th scope="col">{t('runs.metrics')}</th>
              <th scope="col">{t('runs.created')}</th>
              <th scope="col">{t('runs.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-run={r.name}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${t('runs.compare')} ${r.name}`}
                    checked={selected.includes(r.id)}
                    onChange={(e) => toggle(r.id, (e.currentTarget as HTMLInputElement).checked)}
                  />
                </td>
                <td class="mono">{r.name}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>{r.task}</td>
                <td>{r.net}</td>
                <td>{headline(r)}</td>
                <td>{new Date(r.created).toLocaleString()}</td>
                <td>
                  <div class="row-actions">
                    <button
                      type="button"
                      onClick={() => {
                        update({ runId: String(r.id) });
                        go('train');
                      }}
                    >
                      {t('runs.open')}
                    </button>
                    <a class="button" href={`/api/runs/${r.id}/report`} target="_blank" rel="noopener">
                      {t('runs.report')}
                    </a>
                    <button
                      type="button"
                      onClick={() => {
                        update({ runId: String(r.id) });
                        go('deploy');
                      }}
                    >
                      {t('nav.deploy')}
                    </button>
                    <button type="button" class="danger" onClick={() => (setDeleting(r), setConfirm(''))}>
                      {t('runs.delete')}
                    </button>
                  </div>
                </td>
              </tr>
            ))}
            {runs.length === 0 && (
              <tr>
                <td colSpan={8} class="muted">
                  {t('runs.none')}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      {deleting && (
        <form class="confirm" aria-labelledby="del-h" onSubmit={remove} data-testid="delete-dialog">
          <h3 id="del-h">
            {t('runs.deleteTitle')} <span class="mono">{deleting.name}</span>
          </h3>
          <Field label={t('runs.typeName')}>
            <input
              type="text"
              autoFocus
              value={confirm}
              onInput={(e) => setConfirm((e.currentTarget as HTMLInputElement).value)}
            />
          </Field>
          <p class="actions">
            <button type="submit" class="danger" disabled={confirm !== deleting.name}>
              {t('runs.deleteForever')}
            </button>
            <button type="button" onClick={() => setDeleting(null)}>
              {t('runs.cancel')}
            </button>
          </p>
        </form>
      )}

      <h3>{t('runs.overlay')}</h3>
      {selected.length < 2 ? (
        <p class="muted">{t('runs.pickTwo')}</p>
      ) : (
        <div class="two" data-testid="compare">
          <CurveChart
            title={t('train.loss')}
            xLabel={t('train.step')}
            yLabel="loss"
            testId="compare-loss"
            series={chosen.map((id) => ({ label: nameOf(id), ...xy(curves[id].loss) }))}
          />
          <CurveChart
            title={`${t('train.dev')} (${devName})`}
            xLabel={t('train.step')}
            yLabel={devName}
            testId="compare-dev"
            series={chosen.map((id) => ({ label: nameOf(id), ...xy(curves[id].dev) }))}
          />
        </div>
      )}
    </section>
  );
}
