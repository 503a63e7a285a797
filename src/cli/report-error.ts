/**
 * Turn any thrown value into a message on stderr and an exit code. Kept apart from main.ts so it can be
 * tested as a pure formatter.
 */
import {BugError, ExitCode, HostError, UserError} from '../errors.js';

interface Writable {
  write(chunk: string): unknown;
}

/** Errors that know how to describe themselves (SpecError does) may implement this. */
export interface Reportable {
  exitCode: number;
  format(): string;
}

function isReportable(error: unknown): error is Reportable {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as Reportable).format === 'function' &&
    typeof (error as Reportable).exitCode === 'number'
  );
}

export function formatError(error: unknown): {text: string; exitCode: number} {
  if (error instanceof UserError) {
    const next = error.nextStep ? `\n  next: ${error.nextStep}` : '';
    return {text: `berth: ${error.message}${next}`, exitCode: error.exitCode};
  }
  if (error instanceof HostError) {
    const d = error.details;
    const parts = [`berth: ${error.message}`];
    if (d.command) parts.push(`  command: ${d.command}`);
    if (d.exitCode !== undefined) parts.push(`  exit code: ${d.exitCode}`);
    if (d.stderr) parts.push(`  stderr:\n${d.stderr.replace(/^/gm, '    ')}`);
    if (d.nextStep) parts.push(`  next: ${d.nextStep}`);
    return {text: parts.join('\n'), exitCode: error.exitCode};
  }
  if (isReportable(error)) {
    return {text: error.format(), exitCode: error.exitCode};
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const kind = error instanceof BugError ? 'bug' : 'unexpected error';
  return {
    text: `berth: ${kind} — this is a bug in berth, please report it with the text below.\n${stack}`,
    exitCode: ExitCode.bug,
  };
}

export function report(error: unknown, stream: Writable): number {
  const {text, exitCode} = formatError(error);
  stream.write(text.trimEnd() + '\n');
  return exitCode;
}
