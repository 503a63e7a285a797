/**
 * The validation report: every problem found in a spec, each with its JSON path, file:line:col, the source
 * line it points at, and a hint phrased as the fix. Formatting here is pure (tested alone).
 */

export type Severity = 'error' | 'warning';

export interface SpecEntry {
  /** JSON pointer into the spec, e.g. `/inventory/hosts/web-1/port`; `` for the whole document. */
  path: string;
  /** 1-based line and column in the file. */
  line: number;
  col: number;
  message: string;
  /** What to do about it. */
  hint: string;
  severity: Severity;
  /** The source line and how many characters from `col` to underline (not part of `--json`). */
  excerpt?: {text: string; length: number};
}

export interface SpecReport {
  /** The file as the user named it. */
  file: string;
  /** No entry has severity error. */
  valid: boolean;
  /** Sorted by line, column, then path. */
  entries: SpecEntry[];
}

/** `--json`: exactly this shape. */
export interface SpecReportJson {
  valid: boolean;
  errors: {path: string; line: number; col: number; message: string; hint: string; severity: Severity}[];
}

export function reportToJson(report: SpecReport): SpecReportJson {
  return {
    valid: report.valid,
    errors: report.entries.map(({path, line, col, message, hint, severity}) => ({
      path,
      line,
      col,
      message,
      hint,
      severity,
    })),
  };
}

export function makeReport(file: string, entries: SpecEntry[]): SpecReport {
  const seen = new Set<string>();
  const unique = entries.filter((e) => {
    const key = `${e.severity}\0${e.path}\0${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort(
    (a, b) =>
      a.line - b.line ||
      a.col - b.col ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
  return {file, valid: !unique.some((e) => e.severity === 'error'), entries: unique};
}

/**
 * The source line with a caret under the column, keeping the line's own tabs in the caret line so the
 * caret lines up in any terminal.
 */
export function formatExcerpt(line: number, col: number, excerpt: {text: string; length: number}): string {
  const number = String(line);
  const gutter = ' '.repeat(number.length);
  const lead = excerpt.text.slice(0, col - 1).replace(/[^\t]/g, ' ');
  const underline = '^' + '~'.repeat(Math.max(0, Math.min(excerpt.length, excerpt.text.length - col + 1) - 1));
  return `  ${number} | ${excerpt.text}\n  ${gutter} | ${lead}${underline}`;
}

export function formatEntry(file: string, entry: SpecEntry): string {
  const head = `${file}:${entry.line}:${entry.col}: ${entry.severity}: ${entry.path || '/'}: ${entry.message}`;
  const parts = [head];
  if (entry.excerpt) parts.push(formatExcerpt(entry.line, entry.col, entry.excerpt));
  if (entry.hint) parts.push(`  hint: ${entry.hint}`);
  return parts.join('\n');
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatSummary(report: SpecReport, hostCount?: number): string {
  const errors = report.entries.filter((e) => e.severity === 'error').length;
  const warnings = report.entries.length - errors;
  if (errors === 0) {
    const hosts = hostCount === undefined ? '' : ` (${count(hostCount, 'host')})`;
    return `${report.file}: valid${hosts}${warnings ? `, ${count(warnings, 'warning')}` : ''}`;
  }
  return `${report.file}: ${count(errors, 'error')}${warnings ? `, ${count(warnings, 'warning')}` : ''}`;
}

/** Every entry, then the summary line. */
export function formatReport(report: SpecReport, hostCount?: number): string {
  const blocks = report.entries.map((e) => formatEntry(report.file, e));
  blocks.push(formatSummary(report, hostCount));
  return blocks.join('\n\n');
}
