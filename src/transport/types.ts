/**
 * The one interface every host operation goes through (pyinfra's connector idea): an SSH implementation
 * (src/transport/ssh.ts, the only ssh2 import) and a local one for tests of pure host logic.
 */

export interface ExecOptions {
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Run as root (through sudo when the login user is not root). */
  root?: boolean;
  /** Kill the command (its whole process group) and reject with a HostError after this many milliseconds. */
  timeoutMs?: number;
  /** Environment variables for the command (passed on stdin, never in the process argument list on the host). */
  env?: Record<string, string>;
}

export interface ExecResult {
  /** Exit status; null when killed by a signal. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface PutOptions {
  /** Octal mode, e.g. `0644` (default `0644`). */
  mode?: string;
  owner?: string;
  group?: string;
  /** Write as root (upload to a temp file as the login user, then move into place with sudo). */
  root?: boolean;
}

export interface WaitForReconnectOptions {
  /** Give up (HostError) after this long. */
  timeoutMs: number;
  /**
   * The boot_id (/proc/sys/kernel/random/boot_id) seen before the reboot: keep waiting until the host reports
   * a different one, so a host that has not gone down yet is not mistaken for one that came back.
   */
  previousBootId?: string;
}

export interface Transport {
  /** Name of the host, for messages. */
  readonly host: string;
  /** Run a shell command (`sh -c`) on the host. Never rejects on a non-zero exit: check `code`. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Write a file atomically: temp file in the same directory, fsync, rename; the sha256 is verified on the
   * host before the rename. Rejects with a HostError on mismatch.
   */
  put(path: string, content: string | Buffer, options?: PutOptions): Promise<void>;
  /** Read a file; null when it does not exist. */
  get(path: string, options?: {root?: boolean}): Promise<Buffer | null>;
  /**
   * Drop the connection and connect again, retrying until the host answers (after a reboot). Resolves with
   * the host's new boot_id. Local transports resolve at once.
   */
  waitForReconnect?(options: WaitForReconnectOptions): Promise<string>;
  close(): Promise<void>;
}

/**
 * Where and how to connect, as the inventory says it. Every field given here wins over ~/.ssh/config, like
 * OpenSSH's command line (`ssh -p PORT -l USER -i KEY -J JUMP ADDRESS`); fields left out come from
 * ssh_config, then OpenSSH's defaults.
 */
export interface SshTarget {
  /** The host's name, for messages (and the ssh_config `Host` match when `address` is absent). */
  name: string;
  /** What `ssh` would be given on its command line; matched against ssh_config `Host` patterns. */
  address?: string;
  port?: number;
  user?: string;
  /**
   * The user when neither `user` nor ssh_config names one (the spec's default, root); left out: the local
   * user, as OpenSSH does.
   */
  defaultUser?: string;
  identityFile?: string;
  /**
   * Jump host(s): ProxyJump syntax (`[user@]host[:port]`, comma-separated chain, or `none`), or a full
   * target (for an inventory host used as a jump host).
   */
  jump?: string | SshTarget;
  /**
   * How to become root: `none` (login user is root), `sudo` (passwordless) or `sudo-password` (asked once
   * per host through the prompt). Left out: root needs nothing; otherwise `sudo -n` is tried first and the
   * password is asked only when sudo wants one.
   */
  become?: 'none' | 'sudo' | 'sudo-password';
  /** The exact command shown as the next step when the host key is unknown (default: `berth trust …`). */
  trustHint?: string;
}

/** What a secret prompt is asked for: a key's passphrase or a host's sudo password. */
export interface SecretRequest {
  kind: 'passphrase' | 'sudo-password';
  /** The host it is for. */
  host: string;
  /** The key file (for `passphrase`) or login user (for `sudo-password`). */
  subject: string;
  /** The question to show, e.g. `Passphrase for /root/.ssh/id_ed25519: `. */
  message: string;
}

/** Asks a person for a secret. Resolves with the answer; rejects when nobody can answer. Never logs it. */
export type PromptSecret = (request: SecretRequest) => Promise<string>;
