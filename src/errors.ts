/**
 * Error classes by who must act (see shared/STYLE.md, habit 6). Each maps to one documented exit code;
 * only src/cli/main.ts turns them into output and an exit status.
 */

export const ExitCode = {
  ok: 0,
  /** A bug in berth: the stack is printed, please report it. */
  bug: 1,
  /** Bad command line or a problem the user must fix (missing file, untrusted host key…). */
  usage: 2,
  /** The spec is invalid: every problem is listed with file:line:col. */
  spec: 3,
  /** One or more hosts failed (the others completed). */
  hosts: 4,
  /** Interrupted by a signal (SIGINT/SIGTERM). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Something the user must fix: a message plus the next step. */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly exitCode: ExitCode = ExitCode.usage;
  constructor(
    message: string,
    readonly nextStep?: string,
  ) {
    super(message);
  }
}

/** A bug in berth itself. */
export class BugError extends Error {
  override readonly name = 'BugError';
  readonly exitCode: ExitCode = ExitCode.bug;
}

/** A command on a host failed: which host, which step, the command, its exit code and the tail of stderr. */
export class HostError extends Error {
  override readonly name = 'HostError';
  readonly exitCode: ExitCode = ExitCode.hosts;
  constructor(
    readonly host: string,
    readonly step: string,
    message: string,
    readonly details: {command?: string; exitCode?: number | null; stderr?: string; nextStep?: string} = {},
  ) {
    super(`${step} on ${host}: ${message}`);
  }
}

/** Keep only the last lines of a command's output for an error message. */
export function tail(text: string, lines = 10): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}
