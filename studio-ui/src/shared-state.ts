// What the screens hand each other: the file the user picked (and its split), the advice they accepted
// and the run they are watching. Kept in the page only; the server holds everything that must last.

export interface Preview {
  format?: string;
  columns?: string[];
  rows?: unknown[];
  task?: string;
  labels?: unknown;
  checks?: unknown;
  examples?: number;
  count?: number;
  total?: number;
  [k: string]: unknown;
}

export interface SplitFiles {
  train?: string;
  dev?: string;
  test?: string;
  [k: string]: unknown;
}

export interface AcceptedAdvice {
  task: string;
  net: string;
}

export interface Shared {
  file?: string;
  preview?: Preview;
  split?: SplitFiles;
  advice?: AcceptedAdvice;
  runId?: string;
}

export interface ScreenProps {
  shared: Shared;
  update: (patch: Partial<Shared>) => void;
  go: (screen: 'data' | 'advice' | 'train' | 'runs' | 'deploy') => void;
}
