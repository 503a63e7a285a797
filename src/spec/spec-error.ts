/**
 * The spec is invalid: thrown by readSpec with the whole report. Exit code 3; `format()` prints every entry
 * with file:line:col, a caret excerpt and a hint (src/cli/report-error.ts calls it).
 */
import {ExitCode} from '../errors.js';
import {formatReport, type SpecReport} from './report.js';

export class SpecError extends Error {
  override readonly name = 'SpecError';
  readonly exitCode = ExitCode.spec;
  constructor(readonly report: SpecReport) {
    const errors = report.entries.filter((e) => e.severity === 'error').length;
    super(`spec ${report.file} is invalid: ${errors} error${errors === 1 ? '' : 's'}`);
  }

  format(): string {
    return formatReport(this.report);
  }
}
