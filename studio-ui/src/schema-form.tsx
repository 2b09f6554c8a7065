// A form generated from the run config's JSON Schema (the server derives it from the same zod schema the
// CLI validates with), filled from the template: the template's "//" comments become field hints,
// enums become menus, numbers keep the schema's bounds. Arrays and other complex values stay in the JSON.
// Written here rather than with a JSON-schema form library: those (react-jsonschema-form and its kin) bring
// React, a theme and a validator, many times this page's size, for what is here a walk over plain fields;
// validation stays the server's, which is the CLI's.
import { useT } from './widgets.js';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
  default?: unknown;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
};

type Obj = Record<string, unknown>;

/**
 * Not edited in the form: task and net are chosen above it (they pick the schema and template), and the
 * studio puts every run in its own folder named after the run.
 */
const FIXED = new Set(['task', 'model.net', 'trainer.output_dir']);

function resolve(s: JsonSchema | undefined, root: JsonSchema): JsonSchema | undefined {
  let cur = s;
  for (let i = 0; cur && i < 8; i++) {
    if (cur.$ref) {
      const name = cur.$ref.replace(/^#\/(\$defs|definitions)\//, '');
      cur = root.$defs?.[name] ?? root.definitions?.[name];
      continue;
    }
    const alts = cur.anyOf ?? cur.oneOf;
    if (alts) {
      // optional/nullable wrappers: the first alternative that is not null carries the field.
      const enums = alts.filter((a) => a.const !== undefined).map((a) => a.const);
      if (enums.length === alts.length) return { type: 'string', enum: enums, description: cur.description };
      const next = alts.find((a) => a.type !== 'null');
      cur = next ? { ...next, description: next.description ?? cur.description } : undefined;
      continue;
    }
    if (cur.allOf?.length === 1) {
      cur = cur.allOf[0];
      continue;
    }
    return cur;
  }
  return cur;
}

function typeOf(s: JsonSchema | undefined, value: unknown): string {
  const t = Array.isArray(s?.type) ? s?.type.find((x) => x !== 'null') : s?.type;
  if (s?.enum) return 'enum';
  if (t) return t;
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (value && typeof value === 'object' && !Array.isArray(value)) return 'object';
  return 'other';
}

export function setPath(obj: Obj, path: string[], v: unknown): Obj {
  const [head, ...rest] = path;
  const copy = { ...obj };
  if (rest.length === 0) {
    if (v === undefined) delete copy[head];
    else copy[head] = v;
  } else copy[head] = setPath((obj[head] as Obj) ?? {}, rest, v);
  return copy;
}

interface Props {
  schema: JsonSchema;
  value: Obj;
  onChange: (v: Obj) => void;
  showAll: boolean;
}

export function SchemaForm({ schema, value, onChange, showAll }: Props) {
  return (
    <ObjectFields
      root={schema}
      schema={resolve(schema, schema) ?? {}}
      value={value}
      path={[]}
      onChange={onChange}
      showAll={showAll}
    />
  );
}

function ObjectFields(props: {
  root: JsonSchema;
  schema: JsonSchema;
  value: Obj;
  path: string[];
  onChange: (v: Obj) => void;
  showAll: boolean;
}) {
  const { root, schema, value, path, onChange, showAll } = props;
  const { t } = useT();
  const props_ = schema.properties ?? {};
  const shown = (k: string) => !k.startsWith('//') && !FIXED.has([...path, k].join('.'));
  const keys = Object.keys(value).filter(shown);
  if (showAll) for (const k of Object.keys(props_)) if (!keys.includes(k) && shown(k)) keys.push(k);
  const set = (k: string, v: unknown) => onChange(setPath(value, [k], v));
  const simple = keys.filter((k) => typeOf(resolve(props_[k], root), value[k]) !== 'object');
  const nested = keys.filter((k) => typeOf(resolve(props_[k], root), value[k]) === 'object');
  return (
    <>
      {simple.length > 0 && (
        <div class="fields">
          {simple.map((k) => (
            <ValueField
              key={k}
              name={k}
              path={[...path, k]}
              schema={resolve(props_[k], root)}
              value={value[k]}
              hint={typeof value[`// ${k}`] === 'string' ? (value[`// ${k}`] as string) : undefined}
              onChange={(v) => set(k, v)}
              jsonOnly={t('train.jsonOnly')}
            />
          ))}
        </div>
      )}
      {nested.map((k) => {
        const sub = resolve(props_[k], root) ?? {};
        const v = (value[k] as Obj) ?? {};
        return (
          <fieldset key={k} data-path={[...path, k].join('.')}>
            <legend>{k}</legend>
            {typeof v['//'] === 'string' && <p class="hint">{v['//'] as string}</p>}
            <ObjectFields
              root={root}
              schema={sub}
              value={v}
              path={[...path, k]}
              onChange={(nv) => set(k, nv)}
              showAll={showAll}
            />
          </fieldset>
        );
      })}
    </>
  );
}

function ValueField(props: {
  name: string;
  path: string[];
  schema: JsonSchema | undefined;
  value: unknown;
  hint?: string;
  onChange: (v: unknown) => void;
  jsonOnly: string;
}) {
  const { name, schema, value, onChange } = props;
  const kind = typeOf(schema, value);
  const id = `cfg-${props.path.join('-')}`;
  const hint = props.hint ?? schema?.description;
  let input;
  if (kind === 'enum') {
    input = (
      <select
        id={id}
        value={String(value ?? '')}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value || undefined)}
      >
        {value === undefined && <option value="">—</option>}
        {(schema?.enum ?? []).map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  } else if (kind === 'boolean') {
    input = (
      <input
        id={id}
        type="checkbox"
        checked={value === true}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
    );
  } else if (kind === 'number' || kind === 'integer') {
    input = (
      <input
        id={id}
        type="number"
        step={kind === 'integer' ? 1 : 'any'}
        min={schema?.minimum ?? schema?.exclusiveMinimum}
        max={schema?.maximum ?? schema?.exclusiveMaximum}
        value={typeof value === 'number' ? value : ''}
        onInput={(e) => {
          const s = (e.currentTarget as HTMLInputElement).value;
          onChange(s === '' ? undefined : Number(s));
        }}
      />
    );
  } else if (kind === 'string') {
    input = (
      <input
        id={id}
        type="text"
        value={typeof value === 'string' ? value : ''}
        onInput={(e) => onChange((e.currentTarget as HTMLInputElement).value)}
      />
    );
  } else {
    input = (
      <input
        id={id}
        type="text"
        readOnly
        value={value === undefined ? props.jsonOnly : JSON.stringify(value)}
        aria-readonly="true"
      />
    );
  }
  return (
    <div class={kind === 'boolean' ? 'field check' : 'field'} data-path={props.path.join('.')}>
      <label class="label" for={id}>
        {name}
      </label>
      {input}
      {hint && <span class="hint">{hint}</span>}
    </div>
  );
}
