/**
 * Which of the three table formats a data file is in. The file's extension decides (.tsv, .csv, .jsonl or
 * .ndjson); `dataset.format` in the config decides for any other extension (a .txt of CSV lines, say);
 * TSV, alembic's first format, is the default. The extension wins over the config so that a `predict
 * --input x.jsonl` is read as JSON Lines even when the model was trained on CSV.
 */
export const DATA_FORMATS = ['tsv', 'csv', 'jsonl'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

const BY_EXTENSION = new Map<string, DataFormat>([
  ['.tsv', 'tsv'],
  ['.csv', 'csv'],
  ['.jsonl', 'jsonl'],
  ['.ndjson', 'jsonl'],
]);

export function dataFormatOf(file: string, configured?: DataFormat): DataFormat {
  const dot = file.lastIndexOf('.');
  const byExtension = dot < 0 ? undefined : BY_EXTENSION.get(file.slice(dot).toLowerCase());
  return byExtension ?? configured ?? 'tsv';
}

/**
 * A hint for a TSV line with the wrong number of columns that looks like another format: commas but no
 * tabs (CSV), or a JSON object (JSON Lines). Empty when the line looks like TSV.
 */
export function otherFormatHint(text: string): string {
  const looksLike = text.trimStart().startsWith('{')
    ? 'like a JSON object'
    : !text.includes('\t') && text.includes(',')
      ? 'comma-separated'
      : undefined;
  if (looksLike === undefined) return '';
  return (
    ` (this line looks ${looksLike}, but the file is read as TSV: alembic reads .tsv, .csv and .jsonl ` +
    `files by their extension, or as dataset.format says for other extensions)`
  );
}
