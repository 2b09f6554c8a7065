// Advice: the advisor's questions as a form, its recommendation with the reasons and the rules that
// fired, and an optional measurement (short runs of the candidates) drawn as accuracy against QPS.
import { useState } from 'preact/hooks';
import { errorText, post, waitJob } from './api-client.js';
import { CurveChart } from './curve-chart.js';
import type { ScreenProps } from './shared-state.js';
import type { Advice, Job, MeasureReport } from './studio-contract.js';
import { ErrorLine, Field, NumberField, Status, StatusBadge, useT } from './widgets.js';

/** The advisor form's task names: the data page's X→Y abstraction. */
export const ADVICE_TASKS = [
  'text_classification',
  'pair_classification',
  'text_matching',
  'sequence_labeling',
  'reading_comprehension',
  'generation',
];

/** The run config's task for an advice task (the two lists name two tasks differently). */
export function configTask(task: string): string {
  return task === 'pair_classification'
    ? 'text_pair_classification'
    : task === 'generation'
      ? 'text_generation'
      : task;
}

/** The served network of the advice's top candidate (a Transformer of any size trains as `transformer`). */
function recommendedNet(a: Advice | null): string | undefined {
  return a?.steps[0]?.scheme.serve[0]?.net;
}

/** The language of the file's text (Chinese when its first rows hold CJK characters). */
function languageOf(rows: string[][] | undefined): 'zh' | 'en' {
  return /[\u3400-\u9fff]/.test(JSON.stringify(rows ?? [])) ? 'zh' : 'en';
}

export function AdviceScreen({ shared, update, go }: ScreenProps) {
  const { t } = useT();
  const p = shared.preview;
  const [task, setTask] = useState(
    ADVICE_TASKS.includes(p?.task ?? '') ? (p?.task as string) : 'text_classification',
  );
  const [language, setLanguage] = useState(languageOf(p?.rows));
  const [qps, setQps] = useState(100);
  const [hardware, setHardware] = useState('cpu');
  const [labelled, setLabelled] = useState(p?.examples ?? 1000);
  const [goal, setGoal] = useState(0.85);
  const [res, setRes] = useState<Advice | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const [budget, setBudget] = useState(120);

  const labels = p && Object.keys(p.labels).length > 0 ? p.labels : undefined;
  const body = () => ({
    task,
    qps,
    hardware,
    labelled,
    accuracy_goal: goal,
    language,
    ...(labels && { labels }),
    ...(shared.file && { file: shared.split?.train ?? shared.file }),
    ...(shared.split?.dev && { dev_file: shared.split.dev }),
  });

  const ask = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      setRes(await post<Advice>('/api/advice', body()));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const measure = async () => {
    setError(null);
    try {
      const { jobId } = await post<{ jobId: number }>('/api/advice/measure', {
        ...body(),
        budget_seconds: budget,
      });
      const done = await waitJob(jobId, setJob, 1000);
      if (done.error) setError(done.error);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const net = recommendedNet(res);
  const top = res?.steps[0]?.scheme.serve[0];
  // The rules common to every step, then the first step's; the recommendations among them are the reasons.
  const rules = res ? [...res.shared, ...(res.steps[0]?.outcomes ?? [])] : [];
  const reasons = rules.filter((r) => r.kind === 'recommendation');
  const report = job?.status === 'done' ? (job.result as MeasureReport) : undefined;

  return (
    <section aria-labelledby="advice-h">
      <h2 id="advice-h" tabIndex={-1}>
        {t('advice.title')}
      </h2>
      <p class="lead">{t('advice.lead')}</p>
      <form class="row" onSubmit={ask} data-testid="advice-form">
        <Field label={t('advice.task')}>
          <select value={task} onChange={(e) => setTask((e.currentTarget as HTMLSelectElement).value)}>
            {ADVICE_TASKS.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('advice.language')}>
          <select
            value={language}
            onChange={(e) => setLanguage((e.currentTarget as HTMLSelectElement).value as 'zh' | 'en')}
          >
            <option value="zh">{t('advice.zh')}</option>
            <option value="en">{t('advice.en')}</option>
          </select>
        </Field>
        <NumberField label={t('advice.qps')} min="1" value={qps} onValue={setQps} />
        <Field label={t('advice.hardware')}>
          <select
            value={hardware}
            onChange={(e) => setHardware((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="cpu">CPU</option>
            <option value="gpu">GPU</option>
          </select>
        </Field>
        <NumberField label={t('advice.labelled')} min="1" value={labelled} onValue={setLabelled} />
        <NumberField label={t('advice.goal')} min="0" max="1" step="0.01" value={goal} onValue={setGoal} />
        <button type="submit" class="primary" data-testid="advise" disabled={busy}>
          {t('advice.ask')}
        </button>
      </form>
      <ErrorLine error={error} />

      {res && (
        <div class="result" data-testid="advice-result">
          <h3>{t('advice.recommendation')}</h3>
          <p class="big">
            <strong data-testid="advice-net">{top?.id ?? '—'}</strong>
            {top?.why ? <> — {top.why}</> : null}
          </p>
          {reasons.length > 0 && (
            <>
              <h4>{t('advice.reasons')}</h4>
              <ul>
                {reasons.map((r) => (
                  <li key={r.rule}>{r.recommendation}</li>
                ))}
              </ul>
            </>
          )}
          {res!.warnings.length > 0 && (
            <ul class="warnings">
              {res!.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          {rules.length > 0 && (
            <details>
              <summary>
                {t('advice.rules')} ({rules.length})
              </summary>
              <table class="grid">
                <thead>
                  <tr>
                    <th scope="col">{t('advice.rule')}</th>
                    <th scope="col">{t('advice.says')}</th>
                    <th scope="col">{t('advice.why')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rules.map((r) => (
                    <tr key={r.rule} class={r.kind === 'warning' ? 'warn' : ''}>
                      <td>{r.title}</td>
                      <td>{r.recommendation}</td>
                      <td>{r.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
          <p class="actions">
            <button
              type="button"
              class="primary"
              data-testid="accept-advice"
              disabled={!net}
              onClick={() => {
                update({ advice: { task: configTask(task), net: net! } });
                go('train');
              }}
            >
              {t('advice.accept')}
            </button>
            <label class="inline">
              {t('advice.budget')}
              <input
                type="number"
                min="10"
                step="10"
                value={budget}
                onInput={(e) => setBudget(Number((e.currentTarget as HTMLInputElement).value))}
              />
            </label>
            <button
              type="button"
              data-testid="measure"
              onClick={measure}
              disabled={!!job && job.status === 'running'}
            >
              {t('advice.measure')}
            </button>
          </p>
          {job && (
            <Status testId="measure-status">
              {t('advice.measuring')} <StatusBadge status={job.status} />
              {job.error ? ` — ${job.error}` : ''}
            </Status>
          )}
          {report && (
            <>
              <CurveChart
                title={t('advice.chart')}
                xLabel={t('advice.chartX')}
                yLabel={report.metric}
                points
                logX
                testId="pareto"
                series={report.rows.map((c) => ({ label: c.name, x: [c.qpsBatch1], y: [c.value] }))}
              />
              <p class="big">{report.recommendation.text}</p>
            </>
          )}
        </div>
      )}
    </section>
  );
}
