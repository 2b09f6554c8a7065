// The shapes the studio's API answers with (docs/studio-api.md), as the page reads them.

export interface FileEntry {
  name: string;
  size: number;
  modified: string;
}

export interface Check {
  rule: string;
  ok: boolean;
  message: string;
}

export interface Preview {
  format: string;
  columns: string[];
  rows: string[][];
  examples: number;
  /** The preview's X→Y task (`pair_classification`, `generation` or a config task name); null: unknown. */
  task: string | null;
  labels: Record<string, number>;
  checks: Check[];
}

export interface SplitFiles {
  train: string;
  dev: string;
  test: string;
}

export type Status = 'running' | 'done' | 'failed' | 'stopped' | 'interrupted';

export interface RunSummary {
  id: number;
  name: string;
  task: string;
  net: string;
  kind: 'train' | 'distill-model' | 'distill-data';
  parent: number | null;
  status: Status;
  best: Record<string, number> | null;
  created: string;
}

export interface RunDetail extends RunSummary {
  resumable: boolean;
}

export interface Job {
  id: number;
  kind: string;
  runId: number | null;
  status: Status;
  result: unknown;
  error: string | null;
}

export interface ExportResult {
  qps_b1: number;
  qps_b32: number;
  dev_agreement: number | null;
  dev_examples: number;
}

/** What the advisor's measurement job answers (the parts the page shows). */
export interface MeasureReport {
  metric: string;
  /** One measured candidate each: its dev metric and requests per second at batch 1. */
  rows: { name: string; value: number; qpsBatch1: number }[];
  recommendation: { text: string };
}

/** The advisor's rule outcome and served candidate, as the Advice carries them. */
export interface RuleOutcome {
  rule: string;
  title: string;
  kind: 'recommendation' | 'warning';
  recommendation: string;
  reason: string;
}

export interface Advice {
  steps: {
    outcomes: RuleOutcome[];
    scheme: { serve: { id: string; net: string; why: string }[] };
  }[];
  shared: RuleOutcome[];
  warnings: string[];
}
