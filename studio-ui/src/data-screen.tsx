// Data: upload or pick a file in the workspace, see its first rows, the task the studio detected, the
// label distribution and the guide's data checks, and split off dev/test sets with a seed.
import { useEffect, useState } from 'preact/hooks';
import { enc, errorText, get, post } from './api-client.js';
import type { ScreenProps } from './shared-state.js';
import type { FileEntry, Preview, SplitFiles } from './studio-contract.js';
import { ErrorLine, Field, NumberField, Status, useT } from './widgets.js';

export function DataScreen({ shared, update, go }: ScreenProps) {
  const { t } = useT();
  const [files, setFiles] = useState<FileEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [dev, setDev] = useState(0.1);
  const [test, setTest] = useState(0.1);
  const [seed, setSeed] = useState(42);

  const refresh = async () => {
    setFiles(await get<FileEntry[]>('/api/files'));
  };
  useEffect(() => {
    refresh().catch((e) => setError(errorText(e)));
  }, []);

  const pick = async (name: string) => {
    setError(null);
    if (!name) return update({ file: undefined, preview: undefined, split: undefined });
    setBusy(t('data.loading'));
    try {
      const preview = await get<Preview>(`/api/files/${enc(name)}/preview`);
      update({ file: name, preview, split: undefined });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const upload = async (input: HTMLInputElement) => {
    const f = input.files?.[0];
    if (!f) return;
    setError(null);
    setBusy(t('data.uploading'));
    try {
      const res = await post<{ name: string }>(`/api/files?name=${enc(f.name)}`, f);
      await refresh();
      await pick(res.name);
    } catch (e) {
      setError(errorText(e));
      setBusy(null);
    }
    input.value = '';
  };

  const split = async (e: Event) => {
    e.preventDefault();
    if (!shared.file) return;
    setError(null);
    setBusy(t('data.splitting'));
    try {
      const res = await post<SplitFiles>(`/api/files/${enc(shared.file)}/split`, { dev, test, seed });
      update({ split: res });
      await refresh();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const p = shared.preview;
  const counts = Object.entries(p?.labels ?? {});
  const max = Math.max(1, ...counts.map(([, n]) => n));
  const rows = (p?.rows ?? []).slice(0, 8);

  return (
    <section aria-labelledby="data-h">
      <h2 id="data-h" tabIndex={-1}>
        {t('data.title')}
      </h2>
      <p class="lead">{t('data.lead')}</p>
      <div class="row">
        <Field label={t('data.upload')} hint={t('data.uploadHint')}>
          <input
            type="file"
            accept=".tsv,.csv,.jsonl,.json,.txt"
            data-testid="upload"
            onChange={(e) => upload(e.currentTarget as HTMLInputElement)}
          />
        </Field>
        <Field label={t('data.pick')}>
          <select
            data-testid="file-pick"
            value={shared.file ?? ''}
            onChange={(e) => pick((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">{t('data.none')}</option>
            {files.map((f) => (
              <option key={f.name} value={f.name}>
                {f.name}
                {` (${(f.size / 1024).toFixed(1)} KB)`}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {busy && <Status>{busy}</Status>}
      <ErrorLine error={error} />

      {p && (
        <>
          <div class="cards">
            <div class="card">
              <span class="k">{t('data.format')}</span>
              <span class="v">{p.format}</span>
            </div>
            <div class="card">
              <span class="k">{t('data.task')}</span>
              <span class="v" data-testid="detected-task">
                {p.task ?? '—'}
              </span>
            </div>
            <div class="card">
              <span class="k">{t('data.examples')}</span>
              <span class="v">{p.examples}</span>
            </div>
          </div>

          <h3>{t('data.preview')}</h3>
          <div class="scroll">
            <table class="grid" data-testid="preview">
              <thead>
                <tr>
                  {p.columns.map((c) => (
                    <th key={c} scope="col">
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i}>
                    {r.map((v, j) => (
                      <td key={j} title={v}>
                        {v}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>

          <div class="two">
            <div>
              <h3>{t('data.labels')}</h3>
              <ul class="bars" data-testid="labels">
                {counts.map(([label, n]) => (
                  <li key={label}>
                    <span class="bar-label">{label}</span>
                    <span class="bar" style={{ width: `${(100 * n) / max}%` }} />
                    <span class="bar-n">{n}</span>
                  </li>
                ))}
              </ul>
            </div>
            <div>
              <h3>{t('data.checks')}</h3>
              <ul class="checks" data-testid="checks">
                {p.checks.map((c) => (
                  <li key={c.rule} class={c.ok ? 'ok' : 'bad'}>
                    <span aria-hidden="true">{c.ok ? '✓' : '!'}</span>{' '}
                    <span class="sr">{c.ok ? t('data.pass') : t('data.fail')}</span>
                    {c.rule}: {c.message}
                  </li>
                ))}
              </ul>
            </div>
          </div>

          <h3>{t('data.split')}</h3>
          <form class="row" onSubmit={split}>
            <NumberField label={t('data.dev')} min="0" max="0.5" step="0.01" value={dev} onValue={setDev} />
            <NumberField
              label={t('data.test')}
              min="0"
              max="0.5"
              step="0.01"
              value={test}
              onValue={setTest}
            />
            <NumberField label={t('data.seed')} value={seed} onValue={setSeed} />
            <button type="submit" data-testid="split">
              {t('data.splitButton')}
            </button>
          </form>
          {shared.split && (
            <Status testId="split-result">
              {t('data.splitDone')}{' '}
              {(['train', 'dev', 'test'] as const).map((k) => `${k}: ${shared.split![k]}`).join(' · ')}
            </Status>
          )}
          <p>
            <button type="button" class="primary" data-testid="to-advice" onClick={() => go('advice')}>
              {t('data.next')}
            </button>
          </p>
        </>
      )}
    </section>
  );
}
