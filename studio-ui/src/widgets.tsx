// Small pieces every screen uses: error and status lines that screen readers announce, a labelled field
// wrapper, and readers that accept the few shapes the server's lists and checks may come in.
import type { ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import { LangContext } from './ui-text.js';

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

export function useT() {
  return useContext(LangContext);
}

/** [label, count] pairs from {label: n}, [{label, count}] or [[label, n]]. */
export function labelCounts(labels: unknown): [string, number][] {
  if (Array.isArray(labels)) {
    return labels.map((l) => {
      if (Array.isArray(l)) return [String(l[0]), Number(l[1])];
      if (l && typeof l === 'object') {
        const o = l as Record<string, unknown>;
        return [String(o.label ?? o.name ?? ''), Number(o.count ?? o.n ?? 0)];
      }
      return [String(l), NaN];
    });
  }
  if (labels && typeof labels === 'object')
    return Object.entries(labels as Record<string, unknown>).map(([k, v]) => [k, Number(v)]);
  return [];
}

export interface Check {
  ok: boolean | null;
  text: string;
}

/** Data checks as {ok, text}; the server may send {ok|passed|level, message|text|detail}. */
export function readChecks(checks: unknown): Check[] {
  const items: unknown[] = Array.isArray(checks)
    ? checks
    : checks && typeof checks === 'object'
      ? Object.entries(checks).map(([k, v]) =>
          v && typeof v === 'object' ? { name: k, ...v } : { name: k, message: String(v) },
        )
      : [];
  return items.map((c) => {
    if (typeof c === 'string') return { ok: null, text: c };
    const o = (c ?? {}) as Record<string, unknown>;
    const level = String(o.level ?? o.severity ?? o.status ?? '');
    const ok =
      typeof o.ok === 'boolean'
        ? o.ok
        : typeof o.passed === 'boolean'
          ? o.passed
          : level
            ? ['ok', 'pass', 'passed', 'info'].includes(level)
            : null;
    const head = o.title ?? o.name ?? o.rule ?? '';
    const body = o.message ?? o.text ?? o.detail ?? o.recommendation ?? '';
    return { ok, text: [head, body].filter(Boolean).join(': ') };
  });
}

export function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
