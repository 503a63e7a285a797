/**
 * The one interface every host operation goes through (pyinfra's connector idea): an SSH implementation
 * (src/transport/ssh.ts, the only ssh2 import) and a local one for tests of pure host logic.
 */

export interface ExecOptions {
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Run as root (through sudo when the login user is not root). */
  root?: boolean;
  /** Kill the command and reject after this many milliseconds. */
  timeoutMs?: number;
  /** Environment variables for the command (passed safely, never in the process argument list on the host). */
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
  mode?: string;
  owner?: string;
  group?: string;
  /** Write as root (upload to a temp file as the login user, then move into place with sudo). */
  root?: boolean;
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
  close(): Promise<void>;
}
