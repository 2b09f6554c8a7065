// Distil & deploy: from a finished run, launch model or data distillation, export to ONNX (fp32 or int8)
// with the QPS measured on this machine and the agreement with the trained model on the dev set, try the
// model on a sentence, copy a curl for `alembic serve`, and download the model or the export.
import { useEffect, useState } from 'preact/hooks';
import { enc, errorText, get, post, waitJob } from './api-client.js';
import type { ScreenProps } from './shared-state.js';
import type { ExportResult, Job, RunSummary } from './studio-contract.js';
import { ErrorLine, Field, Status, StatusBadge, useT } from './widgets.js';

function JobLine({ job, testId }: { job: Job | null; testId: string }) {
  const { t } = useT();
  if (!job) return null;
  return (
    <Status testId={testId}>
      {t('deploy.job')} <span class="mono">{job.id}</span>: <StatusBadge status={job.status} />
      {job.error ? ` — ${job.error}` : ''}
    </Status>
  );
}

type LabelScore = { label: string; score: number };

/**
 * A classifier's answer (the pipeline's [{label, score}], best first); null for other tasks' answers
 * (entities, a span, a score, text), which the page shows as they come.
 */
function labelScores(result: unknown): LabelScore[] | null {
  const isScore = (x: unknown) => !!x && typeof x === 'object' && 'label' in x && 'score' in x;
  return Array.isArray(result) && result.length > 0 && result.every(isScore)
    ? (result as LabelScore[])
    : null;
}

export function DeployScreen({ shared, update }: ScreenProps) {
  const { t } = useT();
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [kind, setKind] = useState('model');
  const [distillJob, setDistillJob] = useState<Job | null>(null);
  const [int8, setInt8] = useState(false);
  const [exportJob, setExportJob] = useState<Job | null>(null);
  const [text, setText] = useState('');
  const [textB, setTextB] = useState('');
  const [prediction, setPrediction] = useState<{ result: unknown } | null>(null);
  const [curl, setCurl] = useState('');
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    get<RunSummary[]>('/api/runs')
      .then(setRuns)
      .catch((e) => setError(errorText(e)));
  }, []);
  const first = runs.find((r) => r.status === 'done') ?? runs[0];
  const runId = shared.runId ?? (first ? String(first.id) : undefined);
  const run = runs.find((r) => String(r.id) === runId);
  const pair = run?.task === 'text_pair_classification' || run?.task === 'text_matching';
  // Model distillation needs a Transformer teacher; any other run can still label unlabelled text.
  useEffect(() => setKind(run?.net === 'transformer' ? 'model' : 'data'), [run?.net]);

  useEffect(() => {
    setCurl('');
    setPrediction(null);
    setExportJob(null);
    if (!runId) return;
    get<{ text: string }>(`/api/runs/${enc(runId)}/curl`)
      .then((c) => setCurl(c.text))
      .catch(() => setCurl(''));
  }, [runId]);

  const distill = async (e: Event) => {
    e.preventDefault();
    if (!runId) return;
    setError(null);
    try {
      const r = await post<{ jobId: number }>(`/api/runs/${enc(runId)}/distill`, { kind });
      await waitJob(r.jobId, setDistillJob, 1000);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const exportModel = async (e: Event) => {
    e.preventDefault();
    if (!runId) return;
    setError(null);
    try {
      const r = await post<{ jobId: number }>(`/api/runs/${enc(runId)}/export`, { int8 });
      await waitJob(r.jobId, setExportJob, 500);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const predict = async (e: Event) => {
    e.preventDefault();
    if (!runId) return;
    setError(null);
    try {
      setPrediction(
        await post<{ result: unknown }>(
          `/api/runs/${enc(runId)}/predict`,
          pair ? { text_a: text, text_b: textB } : { text },
        ),
      );
    } catch (err) {
      setError(errorText(err));
    }
  };

  const res = exportJob?.status === 'done' ? (exportJob.result as ExportResult) : null;
  const scores = prediction && labelScores(prediction.result);

  return (
    <section aria-labelledby="deploy-h">
      <h2 id="deploy-h" tabIndex={-1}>
        {t('deploy.title')}
      </h2>
      <p class="lead">{t('deploy.lead')}</p>
      <div class="row">
        <Field label={t('deploy.run')}>
          <select
            data-testid="deploy-run"
            value={runId ?? ''}
            onChange={(e) => update({ runId: (e.currentTarget as HTMLSelectElement).value })}
          >
            {runs.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name} ({t(`status.${r.status}`)})
              </option>
            ))}
          </select>
        </Field>
      </div>
      <ErrorLine error={error} />
      {!runId && <p class="muted">{t('runs.none')}</p>}
      {runId && (
        <div class="panels">
          <form class="panel" onSubmit={exportModel} data-testid="export-form">
            <h3>{t('deploy.export')}</h3>
            <label class="inline">
              <input
                type="checkbox"
                checked={int8}
                data-testid="int8"
                onChange={(e) => setInt8((e.currentTarget as HTMLInputElement).checked)}
              />{' '}
              {t('deploy.int8')}
            </label>
            <p>
              <button
                type="submit"
                class="primary"
                data-testid="export"
                disabled={exportJob?.status === 'running'}
              >
                {t('deploy.exportButton')}
              </button>
            </p>
            <JobLine job={exportJob} testId="export-status" />
            {res && (
              <div class="cards" data-testid="export-result">
                <div class="card">
                  <span class="k">{t('deploy.qps1')}</span>
                  <span class="v">{res.qps_b1.toFixed(0)}</span>
                </div>
                <div class="card">
                  <span class="k">{t('deploy.qps32')}</span>
                  <span class="v">{res.qps_b32.toFixed(0)}</span>
                </div>
                <div class="card">
                  <span class="k">{t('deploy.agreement')}</span>
                  <span class="v">
                    {res.dev_agreement === null ? '—' : `${(100 * res.dev_agreement).toFixed(1)}%`}
                  </span>
                </div>
              </div>
            )}
            <p class="downloads">
              <a class="button" href={`/api/runs/${enc(runId)}/download?what=model`} download>
                {t('deploy.downloadModel')}
              </a>{' '}
              <a class="button" href={`/api/runs/${enc(runId)}/download?what=export`} download>
                {t('deploy.downloadExport')}
              </a>
            </p>
          </form>

          <form class="panel" onSubmit={predict} data-testid="try-form">
            <h3>{t('deploy.try')}</h3>
            <Field label={pair ? t('deploy.textA') : t('deploy.text')} wide>
              <input
                type="text"
                data-testid="try-text"
                value={text}
                onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
              />
            </Field>
            {pair && (
              <Field label={t('deploy.textB')} wide>
                <input
                  type="text"
                  value={textB}
                  onInput={(e) => setTextB((e.currentTarget as HTMLInputElement).value)}
                />
              </Field>
            )}
            <p>
              <button type="submit" class="primary" data-testid="predict">
                {t('deploy.predict')}
              </button>
            </p>
            {prediction && (
              <div class="prediction" data-testid="prediction" role="status">
                {scores ? (
                  <>
                    <p class="big">
                      {t('deploy.label')}: <strong data-testid="predicted-label">{scores[0].label}</strong>
                    </p>
                    <ul class="bars">
                      {scores.map(({ label, score }) => (
                        <li key={label}>
                          <span class="bar-label">{label}</span>
                          <span class="bar" style={{ width: `${Math.max(1, 100 * score)}%` }} />
                          <span class="bar-n">{score.toFixed(3)}</span>
                        </li>
                      ))}
                    </ul>
                  </>
                ) : (
                  <pre class="mono">{JSON.stringify(prediction.result, null, 2)}</pre>
                )}
              </div>
            )}
          </form>

          <form class="panel" onSubmit={distill} data-testid="distill-form">
            <h3>{t('deploy.distill')}</h3>
            <p class="hint">{t('deploy.distillHint')}</p>
            <Field label={t('deploy.kind')}>
              <select value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
                <option value="model">{t('deploy.kindModel')}</option>
                <option value="data">{t('deploy.kindData')}</option>
              </select>
            </Field>
            <p>
              <button type="submit" data-testid="distill">
                {t('deploy.distillButton')}
              </button>
            </p>
            <JobLine job={distillJob} testId="distill-status" />
          </form>

          <div class="panel">
            <h3>{t('deploy.curl')}</h3>
            <pre class="curl" data-testid="curl">
              {curl || '—'}
            </pre>
            <button
              type="button"
              disabled={!curl}
              onClick={() =>
                navigator.clipboard?.writeText(curl).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }
            >
              {copied ? t('deploy.copied') : t('deploy.copy')}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
