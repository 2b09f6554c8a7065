/**
 * Errors that reach the user. A UserError is the user's to fix (bad file, bad config, bad flag):
 * the CLI prints its one-line message and exits with code 2, never a stack trace.
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * A run stopped before its end (Ctrl-C, or a caller's AbortSignal) during `step`: what is done is kept,
 * and the same command continues where it stopped. The one interruption of every pipeline.
 */
export class Interrupted extends UserError {
  constructor(readonly step: string) {
    super(`interrupted during the ${step} step; run the same command again to continue where it stopped`);
    this.name = 'Interrupted';
  }
}

/** Where in an input file a problem is: `file:line: field: problem`. */
export interface InputLocation {
  file: string;
  line?: number;
  field?: string;
}

/** A problem with one place in an input file; its message names the file, line and field. */
export class InputError extends UserError {
  constructor(
    readonly location: InputLocation,
    readonly problem: string,
  ) {
    super(formatLocation(location) + problem);
    this.name = 'InputError';
  }
}

export function formatLocation({ file, line, field }: InputLocation): string {
  let s = file;
  if (line !== undefined) s += `:${line}`;
  s += ': ';
  if (field !== undefined) s += `${field}: `;
  return s;
}
