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

/** The options plan, apply, rollback and status share (parsed by fleet-flags.ts), as their usage lists them. */
const fleetOptions = `  --host NAME         only this host (repeatable; default every host in the inventory)
  --json              one JSON document on stdout (progress stays on stderr)
  --concurrency N     hosts at once (default 10)
  --ssh-config FILE   read this ssh_config instead of ~/.ssh/config (like ssh -F)
  --known-hosts FILE  use this known_hosts file (like -o UserKnownHostsFile=FILE)`;

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
  plan: {
    summary: 'Show what apply would change on each host (drift included); changes nothing',
    usage: `Usage: berth plan SPEC [--host NAME]... [--json]

Probe each host (one SSH round trip) and show, like a diff, what berth apply would do: files to create (+),
change or repair (~: drift = edited on the host) and delete (-), units to enable/start/restart, actions.
Nothing changes on the hosts.

Options:
${fleetOptions}

Exit codes: 0 planned · 2 usage · 3 invalid spec · 4 some host could not be planned
`,
    load: () => import('./plan.js'),
  },
  apply: {
    summary: 'Bring hosts to the spec: new generation, atomic switch, rollback on failure',
    usage: `Usage: berth apply SPEC [--host NAME]... [--concurrency 10] [--fail-fast] [--json] [--yes]

For each host: probe, plan, and when something differs upload the new generation (and berth-engine),
switch atomically, reload/restart only the units whose inputs changed, run sysctl/modules/storage setup,
check health; on failure switch back to the previous generation. A second apply of the same spec changes
nothing. Progress goes to stderr, a summary table (or --json) to stdout; a transcript per host is kept
under ~/.cache/berth/logs/ (or $BERTH_LOG_DIR).

Options:
${fleetOptions}
  --fail-fast         after the first failed host, start no more hosts (running ones finish)
  -y, --yes           do not ask (required without a terminal)

Exit codes: 0 every host ok · 2 usage · 3 invalid spec · 4 some host failed (the others completed)
`,
    load: () => import('./apply.js'),
  },
  rollback: {
    summary: 'Switch hosts back to their previous generation',
    usage: `Usage: berth rollback SPEC [--host NAME]... [--json]

Switch each host back to the generation its current one was applied over (files, units, engine), with
the same checks as apply. Repeat to go further back.

Options:
${fleetOptions}
  --fail-fast         after the first failed host, start no more hosts

Exit codes: 0 rolled back · 2 usage · 3 invalid spec · 4 some host failed
`,
    load: () => import('./rollback.js'),
  },
  status: {
    summary: 'Per host: generation, drift, engine, storage driver, pending reboot',
    usage: `Usage: berth status SPEC [--host NAME]... [--json]

Probe each host and show its berth generation, drift (managed files edited on the host), the active
berth-engine, the storage driver, whether a reboot is pending, and declared units that are not running.

Options:
${fleetOptions}

Exit codes: 0 every host answered · 2 usage · 3 invalid spec · 4 some host could not be reached
`,
    load: () => import('./status.js'),
  },
  trust: {
    summary: "Show a host's SSH key fingerprint and record it in known_hosts after confirmation",
    usage: `Usage: berth trust HOST... [--yes] [--port N] [--jump J] [--spec SPEC] [--ssh-config FILE] [--known-hosts FILE]

Connect to each HOST only as far as the key exchange, print its host key's SHA256 fingerprint (the format
\`ssh-keygen -lf\` prints), and after you confirm (on the terminal, or --yes) append it to known_hosts
(hashed when ssh_config says HashKnownHosts yes). Nothing else is sent to the host. Keys already known are
left alone; a changed or @revoked key is refused and never replaced from here.

HOST is an ssh_config alias, [user@]host[:port], or with --spec an inventory host name.

Options:
  --yes, -y            record without asking (check the fingerprint some other way first)
  --port N, -p N       port (default: ssh_config, else 22)
  --jump J, -J J       reach HOST through jump host(s) J (ProxyJump syntax; they must be trusted already)
  --spec SPEC          look HOST names up in SPEC's inventory (connection settings; a jump naming an
                       inventory host is reached with that host's own settings)
  --ssh-config FILE    read this ssh_config instead of ~/.ssh/config (like ssh -F)
  --known-hosts FILE   record in this file (like -o UserKnownHostsFile=FILE)

Exit codes: 0 every key trusted (or already known) · 2 refused, not confirmed, unreachable, or bad usage
`,
    load: () => import('./trust.js'),
  },
};
