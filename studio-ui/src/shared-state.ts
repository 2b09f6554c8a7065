// What the screens hand each other: the file the user picked (and its split), the advice they accepted
// and the run they are watching. Kept in the page only; the server holds everything that must last.
import type { Preview, SplitFiles } from './studio-contract.js';

export interface AcceptedAdvice {
  /** A run config task name. */
  task: string;
  net: string;
}

export interface Shared {
  file?: string;
  preview?: Preview;
  split?: SplitFiles;
  advice?: AcceptedAdvice;
  /** The run's id, as the URL paths take it. */
  runId?: string;
}

export interface ScreenProps {
  shared: Shared;
  update: (patch: Partial<Shared>) => void;
  go: (screen: 'data' | 'advice' | 'train' | 'runs' | 'deploy') => void;
}
