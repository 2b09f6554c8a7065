// Train: pick task and network, edit the config through a form generated from its schema or as JSON
// (both stay in step), validate it as the CLI would, start a run and watch it.
import { useEffect, useState } from 'preact/hooks';
import { enc, errorText, get, post } from './api-client.js';
import { configTask } from './advice-screen.js';
import { RunLive } from './run-live.js';
import { SchemaForm, setPath, type JsonSchema } from './schema-form.js';
import type { ScreenProps, Shared } from './shared-state.js';
import type { SplitFiles } from './studio-contract.js';
import { ErrorLine, Field, Status, useT } from './widgets.js';

/**
 * The names a string field of the run config's schema allows (the tasks, the nets): the page lists what the
 * trainer accepts rather than a copy of it; until the schema has come, just the current choice.
 */
function schemaChoices(schema: JsonSchema | null, at: string[], current: string): string[] {
  let field: JsonSchema | undefined = schema ?? undefined;
  for (const key of at) field = field?.properties?.[key];
  const names = (field?.enum ?? []).filter((v): v is string => typeof v === 'string');
  return names.length > 0 ? names : [current];
}
type Obj = Record<string, unknown>;

/**
 * The template with the user's data files in place of its example paths (the studio keeps data files in
 * the workspace's data/, and config paths are relative to the workspace). Without a split there is no
 * dev or test file of the user's, so those keys go.
 */
function withData(template: Obj, shared: Shared): Obj {
  const files: Partial<SplitFiles> | undefined =
    shared.split ?? (shared.file ? { train: shared.file } : undefined);
  if (!files) return template;
  let c = template;
  for (const k of ['train', 'dev', 'test'] as const)
    c = setPath(c, ['dataset', k], files[k] ? `data/${files[k]}` : undefined);
  return c;
}

export function TrainScreen({ shared, update }: ScreenProps) {
  const { t } = useT();
  const [task, setTask] = useState(
    shared.advice?.task ?? configTask(shared.preview?.task ?? 'text_classification'),
  );
  const [net, setNet] = useState(shared.advice?.net ?? 'bow');
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [config, setConfig] = useState<Obj | null>(null);
  const [text, setText] = useState('');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [showAll, setShowAll] = useState(false);
  const [name, setName] = useState(`${net}-${new Date().toISOString().slice(5, 16).replace(/[-T:]/g, '')}`);
  const [check, setCheck] = useState<{ ok: boolean; errors: string[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // A newer choice of task or net makes this answer stale: it must not overwrite the newer template.
    let stale = false;
    setError(null);
    get<{ template: Obj; schema: JsonSchema }>(`/api/schema?task=${enc(task)}&net=${enc(net)}`)
      .then((r) => {
        if (stale) return;
        setSchema(r.schema);
        const c = withData(r.template, shared);
        setConfig(c);
        setText(JSON.stringify(c, null, 2));
        setCheck(null);
      })
      .catch((e) => setError(errorText(e)));
    return () => {
      stale = true;
    };
  }, [task, net]);

  const fromForm = (c: Obj) => {
    setConfig(c);
    setText(JSON.stringify(c, null, 2));
    setJsonError(null);
    setCheck(null);
  };
  const fromText = (s: string) => {
    setText(s);
    setCheck(null);
    try {
      const v = JSON.parse(s);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(t('train.notObject'));
      setConfig(v);
      setJsonError(null);
    } catch (e) {
      setJsonError(errorText(e));
    }
  };

  const validate = async (): Promise<boolean> => {
    if (!config || jsonError) return false;
    try {
      const r = await post<{ ok: boolean; errors: string[] }>('/api/config/validate', { config });
      setCheck(r);
      return r.ok;
    } catch (e) {
      setCheck({ ok: false, errors: [errorText(e)] });
      return false;
    }
  };

  const start = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (!(await validate())) return;
      const r = await post<{ runId: number; jobId: number }>('/api/runs', { name, config });
      update({ runId: String(r.runId) });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="train-h">
      <h2 id="train-h" tabIndex={-1}>
        {t('train.title')}
      </h2>
      <p class="lead">{t('train.lead')}</p>
      <form onSubmit={start} data-testid="train-form">
        <div class="row">
          <Field label={t('advice.task')}>
            <select value={task} onChange={(e) => setTask((e.currentTarget as HTMLSelectElement).value)}>
              {schemaChoices(schema, ['task'], task).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t('train.net')}>
            <select
              value={net}
              data-testid="net"
              onChange={(e) => setNet((e.currentTarget as HTMLSelectElement).value)}
            >
              {schemaChoices(schema, ['model', 'net'], net).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </Field>
          <Field label={t('train.name')}>
            <input
              type="text"
              required
              value={name}
              data-testid="run-name"
              pattern="[A-Za-z0-9._\-]+"
              onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            />
          </Field>
          <button type="submit" class="primary" data-testid="start" disabled={busy || !config || !!jsonError}>
            {t('train.start')}
          </button>
          <button type="button" data-testid="validate" onClick={validate} disabled={!config || !!jsonError}>
            {t('train.validate')}
          </button>
        </div>
        <ErrorLine error={error} />
        {check && (
          <div data-testid="validation">
            {check.ok ? (
              <Status>{t('train.valid')}</Status>
            ) : (
              <ul class="errors" role="alert">
                {check.errors.map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {shared.runId && <RunLive key={shared.runId} runId={shared.runId} />}
        {schema && config && (
          <div class="two config">
            <div>
              <h3>{t('train.form')}</h3>
              <label class="inline">
                <input
                  type="checkbox"
                  checked={showAll}
                  onChange={(e) => setShowAll((e.currentTarget as HTMLInputElement).checked)}
                />{' '}
                {t('train.showAll')}
              </label>
              <SchemaForm schema={schema} value={config} onChange={fromForm} showAll={showAll} />
            </div>
            <div>
              <h3>
                <label for="config-json">{t('train.json')}</label>
              </h3>
              <textarea
                id="config-json"
                data-testid="config-json"
                spellcheck={false}
                value={text}
                onInput={(e) => fromText((e.currentTarget as HTMLTextAreaElement).value)}
              />
              <ErrorLine error={jsonError} />
            </div>
          </div>
        )}
      </form>
    </section>
  );
}
