/**
 * Builds the command line and stdin for one exec on a host, so that secrets (env values, the sudo password)
 * travel on stdin and never in an argument list that `ps` shows, and so that a timed-out command can be
 * killed as a whole process group. Pure: tested as data in test/transport/remote-command.test.ts.
 */

/** Quote one word for a POSIX shell. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** How root is reached for one command. */
export type Become = 'none' | 'sudo' | 'sudo-password';

/** The marker line the wrapper writes to stderr before anything else: it runs (so sudo let it in). */
export const startMarker = '\u001eberth-start';
/** The marker line a killable command writes to stderr: its process group id. */
export const pgidMarker = '\u001eberth-pgid ';

export interface RemoteCommand {
  /** The command line sent over SSH (what the login shell runs; visible in `ps`, holds no secret). */
  command: string;
  /** What is written to the channel's stdin before the caller's own stdin. */
  preamble: Buffer;
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Wrap `userCommand`:
 *   [sudo -n | sudo -S -k -p ''] sh -c 'print start; [read env] sh -c CMD'                      (plain)
 *   [sudo -n | sudo -S -k -p ''] sh -c 'print start; [read env] setsid sh -c "print pgid; exec sh -c CMD" & wait'
 *                                                                                                 (killable)
 * - the start marker goes to stderr before anything else: a command without it never got past sudo, which is
 *   how the first root command doubles as the check that `sudo -n` works (one round trip, not two);
 * - the sudo password is the first line of stdin: `sudo -S` reads it one byte at a time up to the newline
 *   (sudo's tgetpass), `-k` makes sudo ask even when a credential is cached, so the line is always consumed;
 * - env is a length-prefixed block of `export NAME='value'` lines, read exactly with `dd bs=1` (POSIX `read`
 *   never reads past a newline on a pipe, so the rest of stdin is left to the command);
 * - killable (the caller has a timeout): `setsid` makes the command a process-group leader whose id goes to
 *   stderr behind `pgidMarker`, so a timeout can `kill -KILL -- -PGID` everything the command started, as the
 *   same user. Without a timeout that costs three programs more on the host for nothing, so it is left out.
 */
export function buildRemoteCommand(
  userCommand: string,
  options: {
    become?: Become | undefined;
    env?: Record<string, string> | undefined;
    sudoPassword?: string | undefined;
    killable?: boolean | undefined;
  },
): RemoteCommand {
  const parts: string[] = [`printf '${startMarker.replace('\u001e', '\\036')}\\n' >&2;`];
  const preamble: Buffer[] = [];
  const become = options.become ?? 'none';
  if (become === 'sudo-password') {
    if (options.sudoPassword === undefined) throw new Error('buildRemoteCommand: sudo-password needs the password');
    if (/[\n\r]/.test(options.sudoPassword)) throw new Error('a sudo password cannot contain a line break');
    preamble.push(Buffer.from(options.sudoPassword + '\n'));
  }
  const env = options.env ?? {};
  const names = Object.keys(env);
  if (names.length > 0) {
    for (const name of names) {
      if (!envName.test(name)) throw new Error(`invalid environment variable name "${name}"`);
    }
    const script = Buffer.from(names.map((n) => `export ${n}=${shellQuote(env[n]!)}\n`).join(''));
    preamble.push(Buffer.from(`${script.length}\n`), script);
    parts.push(`read -r berth_n && eval "$(dd bs=1 count="$berth_n" 2>/dev/null)" && unset berth_n &&`);
  }
  if (options.killable) {
    const inner = `printf '${pgidMarker.replace('\u001e', '\\036')}%s\\n' "$$" >&2; exec sh -c "$1"`;
    // An asynchronous list is never a process-group leader, so setsid(1) calls setsid() in place instead of
    // forking, and `wait` returns the command's status (128+N after signal N). Without job control its stdin
    // would be /dev/null (POSIX 2.9.3), hence the copy through fd 3.
    parts.push(
      `exec 3<&0 && { setsid sh -c ${shellQuote(inner)} berth-exec "$1" 0<&3 3<&- & } && exec 0<&- 3<&- && wait "$!" 2>/dev/null`,
    );
  } else {
    parts.push('sh -c "$1"');
  }
  const wrapper = `sh -c ${shellQuote(parts.join(' '))} berth-exec ${shellQuote(userCommand)}`;
  const sudo = become === 'sudo' ? 'sudo -n -- ' : become === 'sudo-password' ? `sudo -S -k -p '' -- ` : '';
  return {command: sudo + wrapper, preamble: Buffer.concat(preamble)};
}

/**
 * Split the wrapper's marker lines out of stderr: whether the wrapper started (got past sudo), the process
 * group id (killable commands, once the wrapper got that far), and stderr without the markers.
 */
export function takeMarkers(stderr: string): {started: boolean; pgid?: number; stderr: string} {
  let rest = stderr;
  let started = false;
  let pgid: number | undefined;
  for (const marker of [startMarker + '\n', pgidMarker]) {
    const at = rest.indexOf(marker);
    if (at < 0 || (at > 0 && rest[at - 1] !== '\n')) continue;
    const end = rest.indexOf('\n', at);
    if (end < 0) continue;
    if (marker === pgidMarker) {
      const n = Number(rest.slice(at + pgidMarker.length, end));
      if (Number.isInteger(n) && n > 1) pgid = n;
    }
    started = true;
    rest = rest.slice(0, at) + rest.slice(end + 1);
  }
  return pgid === undefined ? {started, stderr: rest} : {started, pgid, stderr: rest};
}
