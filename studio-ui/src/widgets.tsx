// Small pieces every screen uses: error and status lines that screen readers announce, a labelled field
// wrapper, the text hook, and how a cell value prints.
import type { ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { LangContext, TEXT, type TextKey } from './ui-text.js';

export function ErrorLine({ error }: { error?: string | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Status({ children, testId }: { children: ComponentChildren; testId?: string }) {
  return (
    <p class="status" role="status" aria-live="polite" data-testid={testId}>
      {children}
    </p>
  );
}

export function Field(props: { label: string; hint?: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <label class={props.wide ? 'field wide' : 'field'}>
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint && <span class="hint">{props.hint}</span>}
    </label>
  );
}

/** A labelled number input that hands back numbers (the forms' counts, rates, shares and seeds). */
export function NumberField(props: {
  label: string;
  value: number;
  onValue: (value: number) => void;
  min?: string;
  max?: string;
  step?: string;
}) {
  return (
    <Field label={props.label}>
      <input
        type="number"
        min={props.min}
        max={props.max}
        step={props.step ?? '1'}
        value={props.value}
        onInput={(e) => props.onValue(Number((e.currentTarget as HTMLInputElement).value))}
      />
    </Field>
  );
}

/** A run's or job's status, coloured and in the page's language. */
export function StatusBadge({ status }: { status: string }) {
  const { t } = useT();
  const key = `status.${status}` as TextKey;
  return <strong class={`st st-${status}`}>{key in TEXT ? t(key) : status}</strong>;
}

export function useT() {
  return useContext(LangContext);
}

export function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
