// Advice: the advisor's questions as a form, its recommendation with the reasons and the rules that
// fired, and an optional measurement (short runs of the candidates) drawn as accuracy against QPS.
import { useState } from 'preact/hooks';
import { errorText, post, waitJob, type Job } from './api-client.js';
import { CurveChart } from './curve-chart.js';
import type { ScreenProps } from './shared-state.js';
import { cell, ErrorLine, Field, Status, useT } from './widgets.js';

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

type Obj = Record<string, unknown>;
type Step = { outcomes?: Obj[]; scheme?: { serve?: { id?: string; net?: string; why?: string }[] } };

/** The advisor's answer, bare or wrapped as {advice, spec}. */
function adviceOf(res: Obj | null): Obj | null {
  return res && typeof res.advice === 'object' && res.advice ? (res.advice as Obj) : res;
}

/** The served network of a recommendation, whichever field the server put it in. */
export function recommendedNet(res: Obj | null): string | undefined {
  const a = adviceOf(res);
  if (!a) return undefined;
  const rec = (a.recommendation ?? {}) as Obj;
  const top = (a.steps as Step[] | undefined)?.[0]?.scheme?.serve?.[0];
  const id = [a.net, rec.net, rec.id, rec.student, top?.net, top?.id].find((v) => typeof v === 'string') as
    string | undefined;
  return id?.startsWith('transformer') ? 'transformer' : id;
}

/** Headline, reasons, rules and warnings of an advice, from the library's Advice or a flat answer. */
function readAdvice(res: Obj | null) {
  const a = adviceOf(res) ?? {};
  const steps = (a.steps ?? []) as Step[];
  const top = steps[0]?.scheme?.serve?.[0];
  const rules = (a.rules ?? [...((a.shared ?? []) as Obj[]), ...(steps[0]?.outcomes ?? [])]) as Obj[];
  const reasons = (a.reasons ??
    rules.filter((r) => r.kind === 'recommendation').map((r) => r.recommendation)) as unknown[];
  const rec = a.recommendation;
  const headline =
    typeof rec === 'string' ? rec : rec && typeof rec === 'object' ? textOf(rec) : (top?.why ?? a.text);
  return {
    id: top?.id,
    headline: headline as string | undefined,
    reasons,
    rules,
    warnings: (a.warnings ?? []) as unknown[],
  };
}

/** The language of the file's text (Chinese when its first rows hold CJK characters). */
function languageOf(rows: unknown[] | undefined): 'zh' | 'en' {
  return /[\u3400-\u9fff]/.test(JSON.stringify(rows ?? [])) ? 'zh' : 'en';
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Obj;
    return String(o.text ?? o.reason ?? o.recommendation ?? o.message ?? JSON.stringify(o));
  }
  return cell(v);
}

interface Candidate {
  name: string;
  qps: number;
  value: number;
}

function candidatesOf(result: unknown): Candidate[] {
  const o = (result ?? {}) as Obj;
  const rows = (
    Array.isArray(result) ? result : (o.rows ?? o.candidates ?? o.measured ?? o.table ?? [])
  ) as Obj[];
  return rows
    .map((r) => ({
      name: String(r.name ?? r.id ?? r.net ?? '?'),
      qps: Number(r.qpsBatch1 ?? r.qps_b1 ?? r.qps ?? NaN),
      value: Number(r.value ?? r.accuracy ?? r.metric ?? NaN),
    }))
    .filter((c) => Number.isFinite(c.qps) && Number.isFinite(c.value));
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
  const [labelled, setLabelled] = useState(Number(p?.examples ?? p?.total ?? p?.count ?? 1000));
  const [goal, setGoal] = useState(0.85);
  const [res, setRes] = useState<Obj | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const [budget, setBudget] = useState(120);

  const labels =
    p?.labels && typeof p.labels === 'object' && Object.keys(p.labels).length ? p.labels : undefined;
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
      setRes(await post<Obj>('/api/advice', body()));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const measure = async () => {
    setError(null);
    try {
      const { jobId } = await post<{ jobId: string }>('/api/advice/measure', {
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
  const { id, headline, reasons, rules, warnings } = readAdvice(res);
  const cands = candidatesOf(job?.result);

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
        <Field label={t('advice.qps')}>
          <input
            type="number"
            min="1"
            step="1"
            value={qps}
            onInput={(e) => setQps(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </Field>
        <Field label={t('advice.hardware')}>
          <select
            value={hardware}
            onChange={(e) => setHardware((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="cpu">CPU</option>
            <option value="gpu">GPU</option>
          </select>
        </Field>
        <Field label={t('advice.labelled')}>
          <input
            type="number"
            min="1"
            step="1"
            value={labelled}
            onInput={(e) => setLabelled(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </Field>
        <Field label={t('advice.goal')}>
          <input
            type="number"
            min="0"
            max="1"
            step="0.01"
            value={goal}
            onInput={(e) => setGoal(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </Field>
        <button type="submit" class="primary" data-testid="advise" disabled={busy}>
          {t('advice.ask')}
        </button>
      </form>
      <ErrorLine error={error} />

      {res && (
        <div class="result" data-testid="advice-result">
          <h3>{t('advice.recommendation')}</h3>
          <p class="big">
            <strong data-testid="advice-net">{id ?? net ?? '—'}</strong>
            {headline && headline !== net ? <> — {headline}</> : null}
          </p>
          {reasons.length > 0 && (
            <>
              <h4>{t('advice.reasons')}</h4>
              <ul>
                {reasons.map((r, i) => (
                  <li key={i}>{textOf(r)}</li>
                ))}
              </ul>
            </>
          )}
          {warnings.length > 0 && (
            <ul class="warnings">
              {warnings.map((w, i) => (
                <li key={i}>{textOf(w)}</li>
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
                  {rules.map((r, i) => (
                    <tr key={i} class={r.kind === 'warning' ? 'warn' : ''}>
                      <td>{String(r.title ?? r.rule ?? r.name ?? '')}</td>
                      <td>{String(r.recommendation ?? r.text ?? '')}</td>
                      <td>{String(r.reason ?? '')}</td>
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
                update({ advice: { task: configTask(task), net: net ?? 'bow' } });
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
              {t('advice.measuring')} {job.status}
              {job.message ? ` — ${job.message}` : ''}
            </Status>
          )}
          {cands.length > 0 && (
            <CurveChart
              title={t('advice.chart')}
              xLabel={t('advice.chartX')}
              yLabel={t('advice.chartY')}
              points
              logX
              testId="pareto"
              series={cands.map((c) => ({ label: c.name, x: [c.qps], y: [c.value] }))}
            />
          )}
        </div>
      )}
    </section>
  );
}
