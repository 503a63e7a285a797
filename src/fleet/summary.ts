/**
 * The summary table printed after a run: one row per host. Pure: rows in, text out.
 */
export interface SummaryRow {
  host: string;
  result: string;
  generation: string;
  details: string;
  time: string;
}

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatSummary(rows: SummaryRow[]): string {
  return formatTable(
    ['HOST', 'RESULT', 'GENERATION', 'TIME', 'DETAILS'],
    rows.map((r) => [r.host, r.result, r.generation, r.time, r.details]),
  );
}
