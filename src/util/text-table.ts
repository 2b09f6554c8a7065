/**
 * A plain-text table for terminal reports: a header, a dashed rule and the rows, columns two spaces apart;
 * the first `leftAligned` columns (names) are padded on the right, the rest (numbers) on the left.
 */
export function textTable(header: string[], rows: string[][], leftAligned = 1): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((v, c) => (c < leftAligned ? v.padEnd(widths[c]) : v.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}
