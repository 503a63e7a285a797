/**
 * The command table. Each command lives in its own file under src/cli/ and is imported only when it runs,
 * so `berth --help` loads nothing but this table (cold start matters: see bench/).
 */
export interface Command {
  /** One line for `berth --help`. */
  summary: string;
  /** Usage and options, printed by `berth COMMAND --help`. */
  usage: string;
  /** Parses argv (everything after the command name) and runs; resolves to the exit code. */
  load: () => Promise<{run: (argv: string[]) => Promise<number>}>;
}

export const commands: Record<string, Command> = {};
