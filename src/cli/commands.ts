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

export const commands: Record<string, Command> = {
  render: {
    summary: 'Render the files berth manages on each host, without touching any host',
    usage: `Usage: berth render SPEC [--host NAME]... (--out DIR | --json)

Render the files berth manages on each host (systemd units, storage setup, kernel settings, update
configuration, users…) without touching any host. Pure: the same spec gives byte-identical output.

Options:
  --host NAME   only this host (repeatable; default every host in the inventory)
  --out DIR     write DIR/HOST/files/<absolute path> and DIR/HOST/manifest.json (replaces an earlier render)
  --json        print the file sets, contents included, as one JSON document on stdout
`,
    load: () => import('./render.js'),
  },
  validate: {
    summary: 'Check a spec: every error at once, with file:line:col and a hint',
    usage: `Usage: berth validate SPEC [--json]

Check SPEC (YAML or JSON) against the host spec schema and the rules a schema cannot express
(devicemapper without a device, dependency cycles, port clashes, unknown groups, bad windows…).
Every problem is listed at once with its JSON path, file:line:col, the source line and a hint.

Options:
  --json   print one JSON document on stdout:
           {"valid": bool, "errors": [{"path", "line", "col", "message", "hint", "severity"}]}
           (severity is "error" or "warning"; warnings do not make a spec invalid)

Exit codes:
  0  the spec is valid (warnings may be listed)
  3  the spec is invalid
  2  SPEC cannot be read, or bad usage
`,
    load: () => import('./validate.js'),
  },
  schema: {
    summary: 'Print the host spec JSON Schema (for editors)',
    usage: `Usage: berth schema

Print the JSON Schema (2020-12) of the host spec on stdout. Save it and point your editor at it, e.g.
with the YAML language server (VS Code's YAML extension and others), as the first line of spec.yaml:

  berth schema > berth.schema.json
  # yaml-language-server: $schema=./berth.schema.json

Exit codes: 0 printed · 2 bad usage
`,
    load: () => import('./schema.js'),
  },
};
