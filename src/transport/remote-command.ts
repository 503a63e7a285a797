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

/** The marker line the wrapper writes to stderr first: the command's process group id. */
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
 *   [sudo -n | sudo -S -k -p ''] sh -c '[read env] setsid sh -c "print pgid; exec sh -c CMD" & wait'
 * - the sudo password is the first line of stdin: `sudo -S` reads it one byte at a time up to the newline
 *   (sudo's tgetpass), `-k` makes sudo ask even when a credential is cached, so the line is always consumed;
 * - env is a length-prefixed block of `export NAME='value'` lines, read exactly with `dd bs=1` (POSIX `read`
 *   never reads past a newline on a pipe, so the rest of stdin is left to the command);
 * - `setsid` makes the command a process-group leader whose id goes to stderr behind `pgidMarker`, so a
 *   timeout can `kill -KILL -- -PGID` everything the command started, as the same user.
 */
export function buildRemoteCommand(
  userCommand: string,
  options: {become?: Become | undefined; env?: Record<string, string> | undefined; sudoPassword?: string | undefined},
): RemoteCommand {
  const parts: string[] = [];
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
  const inner = `printf '${pgidMarker.replace('\u001e', '\\036')}%s\\n' "$$" >&2; exec sh -c "$1"`;
  // An asynchronous list is never a process-group leader, so setsid(1) calls setsid() in place instead of
  // forking, and `wait` returns the command's status (128+N after signal N). Without job control its stdin
  // would be /dev/null (POSIX 2.9.3), hence the copy through fd 3.
  parts.push(
    `exec 3<&0 && { setsid sh -c ${shellQuote(inner)} berth-exec ${shellQuote(userCommand)} 0<&3 3<&- & } && exec 0<&- 3<&- && wait "$!" 2>/dev/null`,
  );
  const wrapper = `sh -c ${shellQuote(parts.join(' '))}`;
  const sudo = become === 'sudo' ? 'sudo -n -- ' : become === 'sudo-password' ? `sudo -S -k -p '' -- ` : '';
  return {command: sudo + wrapper, preamble: Buffer.concat(preamble)};
}

/**
 * Split the pgid marker line out of stderr. Returns the process group id (when the wrapper got that far) and
 * stderr without the marker line.
 */
export function takePgid(stderr: string): {pgid?: number; stderr: string} {
  const at = stderr.indexOf(pgidMarker);
  if (at < 0 || (at > 0 && stderr[at - 1] !== '\n')) return {stderr};
  const end = stderr.indexOf('\n', at);
  if (end < 0) return {stderr};
  const pgid = Number(stderr.slice(at + pgidMarker.length, end));
  return {pgid: Number.isInteger(pgid) && pgid > 1 ? pgid : undefined, stderr: stderr.slice(0, at) + stderr.slice(end + 1)} as {
    pgid?: number;
    stderr: string;
  };
}
