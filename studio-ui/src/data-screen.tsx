// Data: upload or pick a file in the workspace, see its first rows, the task the studio detected, the
// label distribution and the guide's data checks, and split off dev/test sets with a seed.
import { useEffect, useState } from 'preact/hooks';
import { enc, errorText, get, listOf, post } from './api-client.js';
import type { Preview, ScreenProps, SplitFiles } from './shared-state.js';
import { cell, ErrorLine, Field, labelCounts, readChecks, Status, useT } from './widgets.js';

interface FileEntry {
  name: string;
  size?: number;
}

export function DataScreen({ shared, update, go }: ScreenProps) {
  const { t } = useT();
  const [files, setFiles] = useState<FileEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [dev, setDev] = useState(0.1);
  const [test, setTest] = useState(0.1);
  const [seed, setSeed] = useState(42);

  const refresh = async () => {
    const data = await get<unknown>('/api/files');
    setFiles(listOf<FileEntry | string>(data, 'files').map((f) => (typeof f === 'string' ? { name: f } : f)));
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
      const res = await post<{ name?: string }>(`/api/files?name=${enc(f.name)}`, f);
      await refresh();
      await pick(res?.name ?? f.name);
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
  const counts = labelCounts(p?.labels);
  const max = Math.max(1, ...counts.map(([, n]) => n || 0));
  const checks = readChecks(p?.checks);
  const rows = (p?.rows ?? []).slice(0, 8);
  const columns =
    p?.columns ??
    (Array.isArray(rows[0])
      ? (rows[0] as unknown[]).map((_, i) => `#${i + 1}`)
      : Object.keys((rows[0] as object) ?? {}));

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
                {f.size !== undefined ? ` (${(f.size / 1024).toFixed(1)} KB)` : ''}
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
              <span class="v">{p.format ?? '—'}</span>
            </div>
            <div class="card">
              <span class="k">{t('data.task')}</span>
              <span class="v" data-testid="detected-task">
                {p.task ?? '—'}
              </span>
            </div>
            <div class="card">
              <span class="k">{t('data.examples')}</span>
              <span class="v">
                {p.examples ?? p.total ?? p.count ?? counts.reduce((n, [, c]) => n + (c || 0), 0)}
              </span>
            </div>
          </div>

          <h3>{t('data.preview')}</h3>
          <div class="scroll">
            <table class="grid" data-testid="preview">
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th key={c} scope="col">
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i}>
                    {(Array.isArray(r) ? r : columns.map((c) => (r as Record<string, unknown>)[c])).map(
                      (v, j) => (
                        <td key={j} title={cell(v)}>
                          {cell(v)}
                        </td>
                      ),
                    )}
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
                    <span class="bar" style={{ width: `${(100 * (n || 0)) / max}%` }} />
                    <span class="bar-n">{Number.isFinite(n) ? n : ''}</span>
                  </li>
                ))}
              </ul>
            </div>
            <div>
              <h3>{t('data.checks')}</h3>
              <ul class="checks" data-testid="checks">
                {checks.map((c, i) => (
                  <li key={i} class={c.ok === true ? 'ok' : c.ok === false ? 'bad' : ''}>
                    <span aria-hidden="true">{c.ok === true ? '✓' : c.ok === false ? '!' : '•'}</span>{' '}
                    <span class="sr">
                      {c.ok === true ? t('data.pass') : c.ok === false ? t('data.fail') : ''}
                    </span>
                    {c.text}
                  </li>
                ))}
                {checks.length === 0 && <li class="muted">—</li>}
              </ul>
            </div>
          </div>

          <h3>{t('data.split')}</h3>
          <form class="row" onSubmit={split}>
            <Field label={t('data.dev')}>
              <input
                type="number"
                min="0"
                max="0.5"
                step="0.01"
                value={dev}
                onInput={(e) => setDev(Number((e.currentTarget as HTMLInputElement).value))}
              />
            </Field>
            <Field label={t('data.test')}>
              <input
                type="number"
                min="0"
                max="0.5"
                step="0.01"
                value={test}
                onInput={(e) => setTest(Number((e.currentTarget as HTMLInputElement).value))}
              />
            </Field>
            <Field label={t('data.seed')}>
              <input
                type="number"
                step="1"
                value={seed}
                onInput={(e) => setSeed(Number((e.currentTarget as HTMLInputElement).value))}
              />
            </Field>
            <button type="submit" data-testid="split">
              {t('data.splitButton')}
            </button>
          </form>
          {shared.split && (
            <Status testId="split-result">
              {t('data.splitDone')}{' '}
              {(['train', 'dev', 'test'] as const)
                .filter((k) => shared.split?.[k])
                .map((k) => `${k}: ${String(shared.split?.[k])}`)
                .join(' · ')}
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
