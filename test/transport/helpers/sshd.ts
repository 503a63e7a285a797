/**
 * A real OpenSSH server for tests: its own host keys, config, log and port on 127.0.0.1, started as
 * `/usr/sbin/sshd -D -f CONFIG` and stopped by PID. Installs openssh-server (and sudo) through apt when
 * missing, under the shared apt lock.
 */
import {execFileSync, spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createServer, connect} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

export function ensurePackages(binaries: Record<string, string>): void {
  const missing = Object.entries(binaries)
    .filter(([bin]) => !existsSync(bin))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  const install = () =>
    execFileSync(
      'flock',
      ['/tmp/berth-apt.lock', 'apt-get', 'install', '-y', '-o', 'DPkg::Lock::Timeout=600', ...missing],
      {stdio: 'inherit', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}},
    );
  try {
    install();
  } catch {
    execFileSync('flock', ['/tmp/berth-apt.lock', 'apt-get', 'update'], {stdio: 'inherit'});
    install();
  }
}

export function ensureSshTools(): void {
  ensurePackages({
    '/usr/sbin/sshd': 'openssh-server',
    '/usr/bin/ssh-keygen': 'openssh-client',
    '/usr/bin/ssh-agent': 'openssh-client',
    '/usr/bin/sudo': 'sudo',
    '/usr/bin/setsid': 'util-linux',
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host: '127.0.0.1', port});
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function keygen(file: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519', passphrase = ''): {file: string; pub: string} {
  const args = ['-q', '-t', type, '-f', file, '-N', passphrase, '-C', `berth-test-${type}`];
  if (type === 'rsa') args.push('-b', '2048');
  execFileSync('ssh-keygen', args);
  return {file, pub: readFileSync(`${file}.pub`, 'utf8').trim()};
}

export interface TestSshd {
  port: number;
  dir: string;
  pid: number;
  /** Host public keys, as `TYPE BASE64 COMMENT` lines. */
  hostKeys: string[];
  /** A client key allowed to log in as any user (AuthorizedKeysFile is shared). */
  clientKey: string;
  clientPub: string;
  /** `[127.0.0.1]:PORT TYPE BASE64` lines for every host key. */
  knownHosts(): string;
  log(): string;
  authorize(pub: string): void;
  /** Stop sshd (by PID); `keep` leaves its directory (host keys) for a server started later. */
  stop(options?: {keep?: boolean}): Promise<void>;
}

export interface SshdOptions {
  keyTypes?: ('ed25519' | 'rsa' | 'ecdsa')[];
  extraConfig?: string;
  /** Use this port (e.g. to start sshd later on a port a client already retries). */
  port?: number;
  /** Share another server's host keys directory (same identity, other port). */
  hostKeysFrom?: TestSshd;
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  ensureSshTools();
  mkdirSync('/run/sshd', {recursive: true, mode: 0o755});
  const dir = mkdtempSync(join(tmpdir(), 'berth-sshd-'));
  // Other login users (sudo tests) read AuthorizedKeysFile from here as themselves: sshd drops privileges.
  chmodSync(dir, 0o755);
  const port = options.port ?? (await freePort());
  const hostKeyFiles: string[] = [];
  const hostKeys: string[] = [];
  if (options.hostKeysFrom) {
    for (const line of options.hostKeysFrom.hostKeys) hostKeys.push(line);
    for (const type of options.keyTypes ?? ['ed25519']) {
      const copy = join(dir, `host_${type}`);
      copyFileSync(join(options.hostKeysFrom.dir, `host_${type}`), copy);
      chmodSync(copy, 0o600);
      hostKeyFiles.push(copy);
    }
  } else {
    for (const type of options.keyTypes ?? ['ed25519']) {
      const key = keygen(join(dir, `host_${type}`), type);
      hostKeyFiles.push(key.file);
      hostKeys.push(key.pub);
    }
  }
  const client = keygen(join(dir, 'client'), 'ed25519');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, client.pub + '\n', {mode: 0o644});
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1`,
      `Port ${port}`,
      ...hostKeyFiles.map((f) => `HostKey ${f}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PermitRootLogin prohibit-password`,
      `StrictModes no`,
      `PasswordAuthentication no`,
      `KbdInteractiveAuthentication no`,
      `UsePAM no`,
      `AllowTcpForwarding yes`,
      `Subsystem sftp internal-sftp`,
      `LogLevel DEBUG1`,
      `MaxStartups 100`,
      options.extraConfig ?? '',
    ].join('\n') + '\n',
  );
  const logFile = join(dir, 'sshd.log');
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', logFile], {stdio: 'ignore'});
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + 60_000;
  while (!(await canConnect(port))) {
    if (exited) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
      throw new Error(`sshd on port ${port} exited at start:\n${log}`);
    }
    if (Date.now() > deadline) throw new Error(`sshd on port ${port} did not listen within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const sshd: TestSshd = {
    port,
    dir,
    pid: child.pid!,
    hostKeys,
    clientKey: client.file,
    clientPub: client.pub,
    knownHosts: () =>
      hostKeys.map((line) => `[127.0.0.1]:${port} ${line.split(' ').slice(0, 2).join(' ')}`).join('\n') + '\n',
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    authorize: (pub: string) => writeFileSync(authorizedKeys, readFileSync(authorizedKeys, 'utf8') + pub + '\n'),
    stop: async (stopOptions = {}) => {
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        process.kill(child.pid!, 'SIGTERM');
        await gone;
      }
      if (!stopOptions.keep) rmSync(dir, {recursive: true, force: true});
    },
  };
  return sshd;
}

/** Write a file in a fresh temp dir and return its path. */
export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-test-'));
  const file = join(dir, name);
  writeFileSync(file, content, {mode: 0o600});
  return file;
}
