/**
 * The SSH transport: the only file that imports ssh2. One connection per host, reused by every call
 * (channels multiplexed, at most `maxChannels` at once); host keys checked against known_hosts before any
 * authentication is sent; agent and key-file auth; sudo with or without a password; sftp uploads that are
 * fsynced, sha256-verified on the host and renamed into place.
 */
import {randomBytes, createHash} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import {existsSync} from 'node:fs';
import {posix} from 'node:path';
import ssh2 from 'ssh2';
import type {AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, ParsedKey, SFTPWrapper} from 'ssh2';
import {HostError, UserError, tail} from '../errors.js';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  readKnownHostsFiles,
} from './known-hosts.js';
import type {HostKeyVerdict} from './known-hosts.js';
import {buildRemoteCommand, shellQuote, takeMarkers} from './remote-command.js';
import type {Become} from './remote-command.js';
import {knownHostsNames, loadSshConfig, resolveTarget} from './resolve-target.js';
import type {LoadedSshConfig, ResolveOptions, ResolvedTarget} from './resolve-target.js';
import {backoffDelay, isTransientConnectError, sleep} from './retry.js';
import {Semaphore} from './semaphore.js';
import {ttyPromptSecret} from './tty-prompt.js';
import type {
  ExecOptions,
  ExecResult,
  PromptSecret,
  PutOptions,
  SshTarget,
  Transport,
  WaitForReconnectOptions,
} from './types.js';

const {Client, OpenSSHAgent, utils} = ssh2;
type Client = InstanceType<typeof Client>;

export interface SshOptions extends ResolveOptions {
  /** An ssh_config already loaded (shared by the hosts of a fleet run); default: loadSshConfig(sshConfigFile). */
  sshConfig?: LoadedSshConfig;
  /** Asks for key passphrases and the sudo password (default: the terminal, echo off). */
  prompt?: PromptSecret;
  /** Transcript lines: commands, exit codes, connection events. Never stdin, never secrets. */
  log?: (line: string) => void;
  /** TCP connect + SSH handshake limit per attempt (default: ConnectTimeout, else 20 s). */
  connectTimeoutMs?: number;
  /** SSH keepalive interval (default: ServerAliveInterval, else 15 s); 0 disables. */
  keepaliveIntervalMs?: number;
  /** Channels open at once on the connection (default 8; sshd's MaxSessions default is 10). */
  maxChannels?: number;
  /** Connection attempts for transient errors (default 6: about 8 s of backoff). */
  connectAttempts?: number;
}

/** The host key check of one connection attempt, kept so the refusal can be explained afterwards. */
interface HostKeyCheck {
  target: ResolvedTarget;
  key?: Buffer;
  verdict?: HostKeyVerdict;
  refusal?: UserError;
}

const defaultHostKeyAlgorithms = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Host key algorithms, the types known_hosts has for this host first (as OpenSSH orders them). */
function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const preferred: string[] = [];
  for (const type of knownTypes) {
    const algos = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
    for (const a of algos) if (defaultHostKeyAlgorithms.includes(a) && !preferred.includes(a)) preferred.push(a);
  }
  return [...preferred, ...defaultHostKeyAlgorithms.filter((a) => !preferred.includes(a))];
}

function endpoint(t: ResolvedTarget): string {
  return t.port === 22 ? t.hostname : `${t.hostname}:${t.port}`;
}

function keyLabel(key: Buffer): string {
  const type = keyTypeOf(key);
  const short = type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-.*/, 'ecdsa').toUpperCase();
  return `${short} key ${fingerprint(key)}`;
}

/** The `berth trust` invocation that records this host's key (with the files this run was given). */
export function trustCommand(t: ResolvedTarget, options: SshOptions = {}): string {
  if (t.trustHint) return t.trustHint;
  const words = ['berth', 'trust'];
  if (options.sshConfigFile) words.push('--ssh-config', shellQuote(options.sshConfigFile));
  if (options.knownHostsFile) words.push('--known-hosts', shellQuote(options.knownHostsFile));
  if (t.jumpSpec) words.push('--jump', shellQuote(t.jumpSpec));
  if (t.alias !== t.name) {
    // The inventory gave an address: trust that, not the name (ssh_config may not know the name).
    words.push(shellQuote(t.alias));
    if (t.port !== 22) words.push('--port', String(t.port));
  } else {
    words.push(shellQuote(t.name));
  }
  return words.join(' ');
}

function hostKeyRefusal(t: ResolvedTarget, key: Buffer, verdict: HostKeyVerdict, options: SshOptions): UserError | undefined {
  const where = `${t.name} (${endpoint(t)})`;
  switch (verdict.status) {
    case 'known':
      return undefined;
    case 'revoked':
      return new UserError(
        `refuse host key of ${where}: its ${keyLabel(key)} is marked @revoked in ${verdict.line.file}:${verdict.line.line}`,
        'the host must be given a new host key; check the new fingerprint with its administrator, then run ' +
          `\`${trustCommand(t, options)}\``,
      );
    case 'changed': {
      const at = verdict.lines.map((l) => `${l.file}:${l.line}`).join(', ');
      return new UserError(
        `refuse host key of ${where}: it CHANGED — the host shows ${keyLabel(key)}, known_hosts has a different ` +
          `${keyTypeOf(key)} key (${at}). Someone may be intercepting the connection, or the host was reinstalled`,
        `if the host was reinstalled, check the fingerprint with its administrator, remove the old line ` +
          `(ssh-keygen -R '${knownHostsNames(t)[0]}' -f ${verdict.lines[0]?.file}), then run \`${trustCommand(t, options)}\``,
      );
    }
    case 'unknown': {
      const notes: string[] = [];
      if (verdict.otherTypes.length > 0) notes.push(`known_hosts only has ${verdict.otherTypes.join(', ')} keys for it`);
      if (verdict.certAuthority) {
        notes.push('an @cert-authority line matches it, but berth cannot check host certificates (ssh2 limit)');
      }
      return new UserError(
        `refuse unknown host key of ${where}: it shows ${keyLabel(key)}${notes.length ? ` (${notes.join('; ')})` : ''}; ` +
          'nothing was sent to it',
        `check that fingerprint with the host's administrator (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the ` +
          `host), then run \`${trustCommand(t, options)}\``,
      );
    }
  }
}

function explainConnectError(t: ResolvedTarget, error: Error & {level?: string; code?: string}): Error {
  if (error instanceof UserError || error instanceof HostError) return error;
  const where = `${t.user}@${endpoint(t)}`;
  if (error.level === 'client-authentication') {
    return new UserError(
      `log in to ${t.name} as ${where}: the server refused every key offered`,
      `check the user and identityFile for ${t.name} (inventory or ~/.ssh/config), or install the public key: ` +
        `ssh-copy-id -i KEY.pub${t.port !== 22 ? ` -p ${t.port}` : ''} ${t.user}@${t.hostname}`,
    );
  }
  if (error.code === 'ENOTFOUND') {
    return new UserError(`connect to ${t.name}: cannot resolve host name ${t.hostname}`, 'check its address');
  }
  const hostError = new HostError(t.name, 'connect', `${where}: ${error.message}`, {
    nextStep: isTransientConnectError(error)
      ? 'check that the host is up and that sshd listens on that port'
      : undefined,
  });
  // Keep the original error: connectWithRetry decides from it whether another attempt makes sense.
  return Object.assign(hostError, {cause: error});
}

/** A key file's passphrase is needed: ask up to three times, like ssh. */
async function loadKey(
  file: string,
  t: ResolvedTarget,
  prompt: PromptSecret,
  notes: string[],
): Promise<ParsedKey | undefined> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    notes.push(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    return undefined;
  }
  let parsed = utils.parseKey(data);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    for (let attempt = 0; attempt < 3; attempt++) {
      let passphrase: string;
      try {
        passphrase = await prompt({
          kind: 'passphrase',
          host: t.name,
          subject: file,
          message: `Enter passphrase for key '${file}': `,
        });
      } catch (error) {
        notes.push(`${file}: encrypted, ${(error as Error).message}`);
        return undefined;
      }
      parsed = utils.parseKey(data, passphrase);
      if (!(parsed instanceof Error)) break;
    }
    if (parsed instanceof Error) {
      throw new UserError(`unlock key ${file}: wrong passphrase (3 attempts)`, 'check the passphrase, or load the key with ssh-add');
    }
  }
  if (parsed instanceof Error) {
    notes.push(`${file}: ${parsed.message}`);
    return undefined;
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!key || !key.isPrivateKey()) {
    notes.push(`${file}: not a private key`);
    return undefined;
  }
  return key;
}

/** Public blobs of the identity files (from KEY.pub, else from an unencrypted private key). */
async function identityPublicBlobs(files: string[]): Promise<Buffer[]> {
  const blobs: Buffer[] = [];
  for (const file of files) {
    for (const candidate of [`${file}.pub`, file]) {
      if (!existsSync(candidate)) continue;
      const parsed = utils.parseKey(await readFile(candidate));
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      if (key && !(key instanceof Error)) {
        blobs.push(key.getPublicSSH());
        break;
      }
    }
  }
  return blobs;
}

/** ssh-agent limited to the configured identity files (IdentitiesOnly yes). */
class FilteredAgent extends OpenSSHAgent {
  constructor(
    socket: string,
    private readonly allowed: Buffer[],
  ) {
    super(socket);
  }

  override getIdentities(cb: Parameters<InstanceType<typeof OpenSSHAgent>['getIdentities']>[0]): void {
    super.getIdentities((err, keys) => {
      if (err || !keys) return cb(err, keys);
      // OpenSSHAgent returns parsed keys (ssh2 lib/agent.js).
      cb(undefined, (keys as ParsedKey[]).filter((k) => this.allowed.some((b) => b.equals(k.getPublicSSH()))));
    });
  }
}

/** The auth methods to try, in ssh's order: agent keys, then key files (decrypted when their turn comes). */
function authHandler(t: ResolvedTarget, prompt: PromptSecret, notes: string[]) {
  const steps: (() => Promise<AnyAuthMethod | undefined>)[] = [];
  if (t.agentSocket) {
    const socket = t.agentSocket;
    steps.push(async () => {
      if (!existsSync(socket)) {
        notes.push(`ssh-agent: socket ${socket} does not exist`);
        return undefined;
      }
      const agent = t.identitiesOnly ? new FilteredAgent(socket, await identityPublicBlobs(t.identityFiles)) : socket;
      return {type: 'agent', username: t.user, agent};
    });
  }
  for (const file of t.identityFiles) {
    steps.push(async () => {
      const key = await loadKey(file, t, prompt, notes);
      return key ? {type: 'publickey', username: t.user, key} : undefined;
    });
  }
  let next = 0;
  let failure: Error | undefined;
  const handler = (
    _methodsLeft: AuthenticationType[] | null,
    _partial: boolean | null,
    callback: (method: AnyAuthMethod | false) => void,
  ) => {
    void (async () => {
      while (next < steps.length) {
        const step = steps[next++]!;
        try {
          const method = await step();
          if (method) return callback(method);
        } catch (error) {
          failure = error as Error;
          return callback(false);
        }
      }
      callback(false);
    })();
  };
  return {handler, failure: () => failure};
}

/** One SSH connection (with its jump hops), authenticated. */
interface Connection {
  client: Client;
  hops: Client[];
  /** False once the connection closed or failed. */
  alive: boolean;
}

function endAll(clients: Client[]): void {
  for (const c of clients) {
    try {
      c.end();
    } catch {
      // already gone
    }
  }
}

function connectOne(
  t: ResolvedTarget,
  options: SshOptions,
  sock: NodeJS.ReadableStream | undefined,
  check: HostKeyCheck,
  entries: Awaited<ReturnType<typeof readKnownHostsFiles>>,
): Promise<Client> {
  const prompt = options.prompt ?? ttyPromptSecret;
  const names = knownHostsNames(t);
  const notes: string[] = [];
  const auth = authHandler(t, prompt, notes);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(error);
    };
    const config: ConnectConfig = {
      host: t.hostname,
      port: t.port,
      username: t.user,
      readyTimeout: options.connectTimeoutMs ?? t.connectTimeoutMs ?? 20_000,
      keepaliveInterval: options.keepaliveIntervalMs ?? t.serverAliveIntervalMs ?? 15_000,
      keepaliveCountMax: t.serverAliveCountMax ?? 3,
      algorithms: {serverHostKey: hostKeyAlgorithms(knownKeyTypes(entries, names)) as never},
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        check.key = key;
        const verdict = checkHostKey(entries, names, key);
        check.verdict = verdict;
        if (verdict.status === 'known') return verify(true);
        const acceptNew =
          verdict.status === 'unknown' &&
          (t.strictHostKeyChecking === 'accept-new' || t.strictHostKeyChecking === 'no');
        if (acceptNew) {
          const file = t.userKnownHostsFiles[0]!;
          appendKnownHost(file, knownHostsLine(names[0]!, key, t.hashKnownHosts)).then(
            () => {
              options.log?.(`${t.name}: recorded new host key ${fingerprint(key)} in ${file} (StrictHostKeyChecking ${t.strictHostKeyChecking})`);
              verify(true);
            },
            (error: Error) => {
              check.refusal = new UserError(`record host key of ${t.name} in ${file}: ${error.message}`);
              verify(false);
            },
          );
          return;
        }
        check.refusal = hostKeyRefusal(t, key, verdict, options);
        verify(false);
      },
      authHandler: auth.handler as never,
    };
    if (sock) config.sock = sock as never;
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      resolve(client);
    });
    client.on('error', (error: Error & {level?: string}) => {
      if (check.refusal) return fail(check.refusal);
      const authFailure = auth.failure();
      if (authFailure) return fail(authFailure);
      if (error.level === 'client-authentication' && notes.length > 0) {
        const explained = explainConnectError(t, error) as UserError;
        return fail(new UserError(`${explained.message} (${notes.join('; ')})`, explained.nextStep));
      }
      fail(explainConnectError(t, error) as Error);
    });
    client.on('close', () => fail(explainConnectError(t, Object.assign(new Error('connection lost before handshake'), {code: 'ECONNRESET'}))));
    client.connect(config);
  });
}

/** The host key of a host, shown before anything else is sent (for `berth trust`). */
export async function fetchHostKey(
  target: SshTarget,
  options: SshOptions = {},
): Promise<{
  target: ResolvedTarget;
  key: Buffer;
  verdict: HostKeyVerdict;
  /** The name known_hosts knows the host by (`host` or `[host]:port`). */
  lookupName: string;
  knownHostsFile: string;
  line: string;
}> {
  const resolved = resolveTarget(target, options.sshConfig ?? loadSshConfig(options.sshConfigFile, options.home), options);
  const entries = await readKnownHostsFiles([...resolved.userKnownHostsFiles, ...resolved.globalKnownHostsFiles]);
  // Reach the host through its jump hosts (which must already be trusted), then stop at its key.
  const hops: Client[] = [];
  let sock: NodeJS.ReadableStream | undefined;
  try {
    for (const hop of resolved.jumps) {
      const hopEntries = await readKnownHostsFiles([...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles]);
      const client = await connectOne(hop, options, sock, {target: hop}, hopEntries);
      hops.push(client);
      sock = await forward(client, hop, resolved.jumps[hops.length] ?? resolved);
    }
    const key = await new Promise<Buffer>((resolve, reject) => {
      const client = new Client();
      let got: Buffer | undefined;
      client.on('error', (error: Error) => (got ? resolve(got) : reject(explainConnectError(resolved, error))));
      client.on('close', () => (got ? resolve(got) : reject(new HostError(resolved.name, 'connect', 'closed before a host key was seen'))));
      const config: ConnectConfig = {
        host: resolved.hostname,
        port: resolved.port,
        username: resolved.user,
        readyTimeout: options.connectTimeoutMs ?? resolved.connectTimeoutMs ?? 20_000,
        algorithms: {serverHostKey: hostKeyAlgorithms(knownKeyTypes(entries, knownHostsNames(resolved))) as never},
        hostVerifier: (k: Buffer) => {
          got = k;
          return false;
        },
        authHandler: (() => false) as never,
      };
      if (sock) config.sock = sock as never;
      client.connect(config);
    });
    const names = knownHostsNames(resolved);
    return {
      target: resolved,
      key,
      verdict: checkHostKey(entries, names, key),
      lookupName: names[0]!,
      knownHostsFile: resolved.userKnownHostsFiles[0]!,
      line: knownHostsLine(names[0]!, key, resolved.hashKnownHosts),
    };
  } finally {
    endAll(hops);
  }
}

function forward(client: Client, from: ResolvedTarget, to: ResolvedTarget): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, to.hostname, to.port, (error, stream) => {
      if (error) {
        reject(
          new HostError(to.name, 'connect', `through jump host ${from.name} to ${endpoint(to)}: ${error.message}`, {
            nextStep: `check that ${from.name} can reach ${endpoint(to)} and allows TCP forwarding (AllowTcpForwarding)`,
          }),
        );
      } else resolve(stream);
    });
  });
}

async function connectChain(t: ResolvedTarget, options: SshOptions): Promise<Connection> {
  const hops: Client[] = [];
  let sock: NodeJS.ReadableStream | undefined;
  try {
    for (const [i, hop] of t.jumps.entries()) {
      const entries = await readKnownHostsFiles([...hop.userKnownHostsFiles, ...hop.globalKnownHostsFiles]);
      const client = await connectOne(hop, options, sock, {target: hop}, entries);
      hops.push(client);
      sock = await forward(client, hop, t.jumps[i + 1] ?? t);
    }
    const entries = await readKnownHostsFiles([...t.userKnownHostsFiles, ...t.globalKnownHostsFiles]);
    const client = await connectOne(t, options, sock, {target: t}, entries);
    return {client, hops, alive: true};
  } catch (error) {
    endAll(hops);
    throw error;
  }
}

/** Connect, retrying transient errors with backoff: a command has not been sent yet, so this is safe. */
async function connectWithRetry(t: ResolvedTarget, options: SshOptions, attempts: number): Promise<Connection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connectChain(t, options);
    } catch (error) {
      const cause = error instanceof HostError && error.cause !== undefined ? error.cause : error;
      if (attempt + 1 >= attempts || !isTransientConnectError(cause)) throw error;
      const delay = backoffDelay(attempt);
      options.log?.(`${t.name}: connect failed (${(error as Error).message}); retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}


/** One command's result as run() sees it: also the raw stdout, and whether the wrapper got past sudo. */
type RawResult = ExecResult & {stdoutBuffer: Buffer; started: boolean};

/** The transport itself. Create with connectSsh(). */
class SshTransport implements Transport {
  readonly host: string;
  private connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private sftpRelease: (() => void) | undefined;
  private become: Promise<Become> | undefined;
  private sudoPassword: string | undefined;
  private privateDir: Promise<string> | undefined;
  private readonly channels: Semaphore;
  private closed = false;

  constructor(
    private readonly target: ResolvedTarget,
    private readonly options: SshOptions,
  ) {
    this.host = target.name;
    this.channels = new Semaphore(Math.max(1, Math.min(options.maxChannels ?? 8, 10)));
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** The live connection, (re)connecting when there is none. */
  async connect(): Promise<Connection> {
    if (this.closed) throw new HostError(this.host, 'connect', 'the transport is closed');
    if (this.connection) return this.connection;
    if (!this.connecting) {
      const started = Date.now();
      this.connecting = connectWithRetry(this.target, this.options, this.options.connectAttempts ?? 6).then(
        (connection) => {
          this.connecting = undefined;
          this.log(`${this.host}: connected to ${this.target.user}@${endpoint(this.target)} in ${Date.now() - started} ms`);
          return this.adopt(connection);
        },
        (error: unknown) => {
          this.connecting = undefined;
          throw error;
        },
      );
    }
    return this.connecting;
  }

  /** Make `connection` the live one; forget it (and its sftp session) as soon as it closes. */
  private adopt(connection: Connection): Connection {
    this.connection = connection;
    const lost = (error?: Error) => {
      if (error) this.log(`${this.host}: connection error: ${error.message}`);
      connection.alive = false;
      if (this.connection === connection) this.dropConnection();
    };
    connection.client.on('close', () => lost());
    connection.client.on('error', lost);
    return connection;
  }

  private dropConnection(): void {
    const connection = this.connection;
    this.connection = undefined;
    this.sftpSession = undefined;
    this.sftpRelease?.();
    this.sftpRelease = undefined;
    this.privateDir = undefined;
    if (connection) endAll([connection.client, ...connection.hops.reverse()]);
  }

  /** How root is reached, decided once per host: root login, `sudo -n`, or sudo with the password. */
  private becomeMode(): Promise<Become> {
    if (!this.become) {
      this.become = this.decideBecome();
      this.become.catch(() => {
        this.become = undefined;
      });
    }
    return this.become;
  }

  /** Root without sudo (logged in as root), or refused outright (become: none); undefined: sudo decides. */
  private becomeWithoutSudo(): Become | undefined {
    const t = this.target;
    if (t.user === 'root') return 'none';
    if (t.become === 'none') {
      throw new UserError(
        `run as root on ${this.host}: the login user is ${t.user} and become is "none"`,
        'set `become: sudo` or `become: sudo-password` for this host, or log in as root',
      );
    }
    return undefined;
  }

  private async decideBecome(): Promise<Become> {
    const direct = this.becomeWithoutSudo();
    if (direct) return direct;
    const probe = await this.run('true', {become: 'sudo'}, 'become root');
    return probe.code === 0 ? 'sudo' : this.sudoRefused(probe, 'true');
  }

  /**
   * `sudo -n` did not let a command in: with `become: sudo` that is the end (say what to set instead);
   * otherwise ask for the password (three tries, each checked with `sudo -S -k true`).
   */
  private async sudoRefused(refused: RawResult, command: string): Promise<Become> {
    const t = this.target;
    if (t.become === 'sudo') {
      throw new HostError(this.host, 'become root', `sudo -n refused for ${t.user}`, {
        command: `sudo -n ${command === 'true' ? 'true' : '-- <command>'}`,
        exitCode: refused.code,
        stderr: tail(refused.stderr),
        nextStep: 'set `become: sudo-password` for this host, or give the user passwordless sudo',
      });
    }
    const prompt = this.options.prompt ?? ttyPromptSecret;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const password = await prompt({
        kind: 'sudo-password',
        host: this.host,
        subject: t.user,
        message: `[sudo] password for ${t.user}@${this.host}: `,
      });
      if (/[\r\n]/.test(password)) throw new UserError(`become root on ${this.host}: the password contains a line break`);
      const check = await this.run('true', {become: 'sudo-password', sudoPassword: password}, 'become root');
      if (check.code === 0) {
        this.sudoPassword = password;
        return 'sudo-password';
      }
      this.log(`${this.host}: sudo rejected the password (attempt ${attempt} of 3)`);
      if (!/incorrect password|try again|authentication failure/i.test(check.stderr) && attempt === 1) {
        throw new HostError(this.host, 'become root', `sudo failed for ${t.user}`, {
          command: 'sudo -S true',
          exitCode: check.code,
          stderr: tail(check.stderr.replace(password, '***')),
          nextStep: `check that ${t.user} may use sudo on the host (sudoers)`,
        });
      }
    }
    throw new UserError(
      `become root on ${this.host}: sudo rejected the password of ${t.user} three times`,
      `check the sudo password of ${t.user} on ${this.host}`,
    );
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const run = (become: Become) =>
      this.run(
        command,
        {become, sudoPassword: this.sudoPassword, env: options.env, stdin: options.stdin, timeoutMs: options.timeoutMs},
        'exec',
      );
    let become: Become = 'none';
    if (options.root) {
      const direct = this.become ? undefined : this.becomeWithoutSudo();
      if (direct) {
        this.become = Promise.resolve(direct);
        become = direct;
      } else if (!this.become) {
        // The first root command is also the check that `sudo -n` works: run it right away, and only when
        // sudo did not let it in (no start marker) go the slow way. Other root commands wait for the answer.
        const first = run('sudo');
        const decided = first.then((raw) => (raw.started ? ('sudo' as const) : this.sudoRefused(raw, command)));
        this.become = decided;
        decided.catch(() => {
          if (this.become === decided) this.become = undefined;
        });
        become = await decided;
        if (become === 'sudo') return this.checkSudo(await first, command, become);
      } else {
        become = await this.becomeMode();
      }
    }
    return this.checkSudo(await run(become), command, become);
  }

  /** A root command that sudo -n did not let in although it did before (sudoers changed meanwhile). */
  private checkSudo(raw: RawResult, command: string, become: Become): RawResult {
    if (become === 'sudo' && !raw.started && raw.code !== 0) {
      throw new HostError(this.host, 'become root', `sudo -n now wants a password for ${this.target.user}`, {
        command,
        stderr: tail(raw.stderr),
        nextStep: 'set `become: sudo-password` for this host',
      });
    }
    return raw;
  }

  /** Run one wrapped command on its own channel; resolves with the raw result (strings for the caller). */
  private async run(
    command: string,
    options: {
      become: Become;
      sudoPassword?: string | undefined;
      env?: Record<string, string> | undefined;
      stdin?: string | Buffer | undefined;
      timeoutMs?: number | undefined;
    },
    step: string,
  ): Promise<RawResult> {
    const remote = buildRemoteCommand(command, {...options, killable: options.timeoutMs !== undefined});
    const connection = await this.connect();
    const release = await this.channels.acquire();
    const started = Date.now();
    this.log(`${this.host}: $ ${command}${options.become !== 'none' ? `  (as root via ${options.become})` : ''}`);
    try {
      const open = (client: Client) =>
        new Promise<ClientChannel>((resolve, reject) => {
          client.exec(remote.command, (error, stream) => {
            if (error) reject(new HostError(this.host, step, `open a session: ${error.message}`, {command}));
            else resolve(stream);
          });
        });
      let channel: ClientChannel;
      try {
        channel = await open(connection.client);
      } catch (error) {
        // The session was refused or never opened, so the command did not start: when the connection itself
        // died meanwhile (e.g. the host rebooted between two calls), one fresh connection is safe to try.
        if (connection.alive && this.connection === connection) throw error;
        this.log(`${this.host}: connection gone before the command started; reconnecting`);
        channel = await open((await this.connect()).client);
      }
      const result = await new Promise<RawResult>((resolve, reject) => {
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        let exited = false;
        let pgid: number | undefined;
        let timedOut = false;
        let timer: NodeJS.Timeout | undefined;
        channel.on('data', (chunk: Buffer) => out.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => {
          err.push(chunk);
          if (pgid === undefined) {
            const seen = takeMarkers(Buffer.concat(err).toString('utf8'));
            if (seen.pgid !== undefined) {
              pgid = seen.pgid;
              // Timed out before the command even started (slow session start): kill it now.
              if (timedOut) kill();
            }
          }
        });
        channel.on('exit', (c: number | null, s?: string) => {
          exited = true;
          code = typeof c === 'number' ? c : null;
          if (s) signal = s;
        });
        channel.on('close', () => {
          if (timer) clearTimeout(timer);
          const {stderr, started} = takeMarkers(Buffer.concat(err).toString('utf8'));
          const stdoutBuffer = Buffer.concat(out);
          if (timedOut) {
            reject(
              new HostError(this.host, step, `timed out after ${options.timeoutMs} ms and was killed`, {
                command,
                stderr: tail(stderr),
              }),
            );
            return;
          }
          if (!exited && !started && /^sudo: /m.test(stderr)) {
            // sudo refused and the session closed without an exit status (seen once under load with OpenSSH):
            // sudo's own message and no start marker say the command never ran, as exit 1 would.
            resolve({code: 1, stdout: stdoutBuffer.toString('utf8'), stderr, stdoutBuffer, started: false});
            return;
          }
          if (!exited) {
            reject(
              new HostError(this.host, step, 'the connection was lost while the command ran; it may or may not have run', {
                command,
                stderr: tail(stderr),
                nextStep: 'check the host, then run berth again',
              }),
            );
            return;
          }
          const result: RawResult = {code, stdout: stdoutBuffer.toString('utf8'), stderr, stdoutBuffer, started};
          if (signal) result.signal = signal;
          resolve(result);
        });
        const kill = () => {
          void this.killGroup(pgid, options).finally(() => {
            // The channel closes once the group is gone; close it ourselves if it does not.
            setTimeout(() => channel.close(), 5000).unref();
          });
        };
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            timedOut = true;
            this.log(`${this.host}: timed out after ${options.timeoutMs} ms: ${command}`);
            if (pgid !== undefined) kill();
          }, options.timeoutMs);
        }
        if (remote.preamble.length > 0) channel.write(remote.preamble);
        if (options.stdin !== undefined) channel.write(options.stdin);
        channel.end();
      });
      this.log(`${this.host}: exit ${result.code ?? result.signal} in ${Date.now() - started} ms`);
      return result;
    } finally {
      release();
    }
  }

  /** Kill a timed-out command's process group, as the user that runs it. */
  private async killGroup(pgid: number | undefined, options: {become: Become; sudoPassword?: string | undefined}): Promise<void> {
    if (pgid === undefined) return;
    try {
      await this.run(`kill -KILL -${pgid}`, {become: options.become, sudoPassword: options.sudoPassword}, 'kill');
    } catch (error) {
      this.log(`${this.host}: could not kill process group ${pgid}: ${(error as Error).message}`);
    }
  }

  private sftp(): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      const session = (async () => {
        const connection = await this.connect();
        // The sftp channel stays open for the life of the connection: it holds one channel slot.
        const release = await this.channels.acquire();
        return new Promise<SFTPWrapper>((resolve, reject) => {
          connection.client.sftp((error, sftp) => {
            if (error) {
              release();
              reject(new HostError(this.host, 'sftp', `start the sftp subsystem: ${error.message}`, {
                nextStep: 'check `Subsystem sftp` in the host\'s sshd_config',
              }));
              return;
            }
            this.sftpRelease = release;
            sftp.on('close', () => {
              if (this.sftpSession === session) this.sftpSession = undefined;
              release();
            });
            resolve(sftp);
          });
        });
      })();
      session.catch(() => {
        if (this.sftpSession === session) this.sftpSession = undefined;
      });
      this.sftpSession = session;
    }
    return this.sftpSession;
  }

  /** Upload `content` to `path` over sftp, fsync it, close it. */
  private async upload(path: string, content: Buffer, mode: number): Promise<void> {
    const sftp = await this.sftp();
    const call = <T>(fn: (cb: (error: Error | null | undefined, value?: T) => void) => void, what: string) =>
      new Promise<T>((resolve, reject) =>
        fn((error, value) =>
          error ? reject(new HostError(this.host, 'upload', `${what} ${path}: ${error.message}`)) : resolve(value as T),
        ),
      );
    const handle = await call<Buffer>((cb) => sftp.open(path, 'wx', {mode}, cb), 'create');
    try {
      // Several writes in flight at once (like OpenSSH's sftp -R): one round trip per 32 KiB is slow on a
      // distant host. Each write carries its own offset, so order of completion does not matter.
      const chunk = 32 * 1024;
      let next = 0;
      const writer = async () => {
        while (next < content.length) {
          const offset = next;
          const length = Math.min(content.length - offset, chunk);
          next += length;
          await call<void>((cb) => sftp.write(handle, content, offset, length, offset, cb), 'write');
        }
      };
      await Promise.all(Array.from({length: Math.min(16, Math.ceil(content.length / chunk))}, writer));
      await call<void>((cb) => sftp.ext_openssh_fsync(handle, (e) => cb(e)), 'fsync');
    } finally {
      await call<void>((cb) => sftp.close(handle, cb), 'close');
    }
  }

  /** A directory only the login user can read, for root uploads before `sudo install` moves them. */
  private loginPrivateDir(): Promise<string> {
    if (!this.privateDir) {
      const dir = (async () => {
        const result = await this.run('umask 077 && mktemp -d /tmp/berth-upload.XXXXXXXX', {become: 'none'}, 'upload');
        if (result.code !== 0) {
          throw new HostError(this.host, 'upload', 'create a private temp directory', {
            command: 'mktemp -d',
            exitCode: result.code,
            stderr: tail(result.stderr),
          });
        }
        return result.stdout.trim();
      })();
      dir.catch(() => {
        if (this.privateDir === dir) this.privateDir = undefined;
      });
      this.privateDir = dir;
    }
    return this.privateDir;
  }

  async put(path: string, content: string | Buffer, options: PutOptions = {}): Promise<void> {
    if (!posix.isAbsolute(path)) throw new UserError(`upload ${path} to ${this.host}: the path must be absolute`);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const sha256 = createHash('sha256').update(data).digest('hex');
    const mode = options.mode ?? '0644';
    if (!/^0?[0-7]{3,4}$/.test(mode)) throw new UserError(`upload ${path} to ${this.host}: invalid mode "${mode}"`);
    const dir = posix.dirname(path);
    const temp = posix.join(dir, `.${posix.basename(path)}.berth-${randomBytes(6).toString('hex')}`);
    const owner = options.owner ?? (options.root ? 'root' : undefined);
    const group = options.group ?? (options.root ? 'root' : undefined);
    const ownership = owner !== undefined || group !== undefined ? `${owner ?? ''}:${group ?? ''}` : undefined;
    const q = shellQuote;
    const verify = (file: string) =>
      `sum=$(sha256sum < ${q(file)}) && sum=\${sum%% *} && if [ "$sum" != ${sha256} ]; then ` +
      `echo "sha256 mismatch: expected ${sha256}, got $sum" >&2; rm -f ${q(file)}; exit 97; fi`;
    let script: string;
    let become: Become = 'none';
    if (options.root && this.target.user !== 'root') {
      become = await this.becomeMode();
      const stage = posix.join(await this.loginPrivateDir(), randomBytes(6).toString('hex'));
      await this.upload(stage, data, 0o600);
      // install(1) copies into the target directory with owner and mode set, then fsync + rename makes the
      // switch atomic; the staged copy stays private to the login user until it is removed.
      script = [
        `set -e`,
        `trap 'rm -f ${q(stage)}' EXIT`,
        `install -m ${mode} ${ownership ? `-o ${q(owner ?? 'root')} -g ${q(group ?? 'root')}` : ''} -- ${q(stage)} ${q(temp)}`,
        verify(temp),
        `sync -- ${q(temp)}`,
        `mv -f -- ${q(temp)} ${q(path)}`,
        `sync -- ${q(dir)} 2>/dev/null || true`,
      ].join('\n');
    } else {
      await this.upload(temp, data, 0o600);
      script = [
        `set -e`,
        verify(temp),
        ownership ? `chown ${q(ownership)} ${q(temp)} || { rm -f ${q(temp)}; exit 1; }` : '',
        `chmod ${mode} ${q(temp)}`,
        `mv -f -- ${q(temp)} ${q(path)}`,
        `sync -- ${q(dir)} 2>/dev/null || true`,
      ]
        .filter(Boolean)
        .join('\n');
    }
    const result = await this.run(script, {become, sudoPassword: this.sudoPassword}, 'upload');
    if (result.code !== 0) {
      throw new HostError(this.host, 'upload', `write ${path}: ${result.code === 97 ? 'sha256 mismatch after upload' : 'failed'}`, {
        command: `put ${path}`,
        exitCode: result.code,
        stderr: tail(result.stderr),
      });
    }
  }

  async get(path: string, options: {root?: boolean} = {}): Promise<Buffer | null> {
    if (options.root && this.target.user !== 'root') {
      const become = await this.becomeMode();
      const result = await this.run(
        `if [ ! -e ${shellQuote(path)} ]; then exit 97; fi; exec cat -- ${shellQuote(path)}`,
        {become, sudoPassword: this.sudoPassword},
        'download',
      );
      if (result.code === 97) return null;
      if (result.code !== 0) {
        throw new HostError(this.host, 'download', `read ${path}`, {exitCode: result.code, stderr: tail(result.stderr)});
      }
      return result.stdoutBuffer;
    }
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => {
      sftp.readFile(path, (error: (Error & {code?: number}) | undefined, data: Buffer) => {
        if (!error) return resolve(data);
        if (error.code === 2) return resolve(null); // SSH_FX_NO_SUCH_FILE
        reject(new HostError(this.host, 'download', `read ${path}: ${error.message}`));
      });
    });
  }

  async waitForReconnect(options: WaitForReconnectOptions): Promise<string> {
    const deadline = Date.now() + options.timeoutMs;
    this.dropConnection();
    let attempt = 0;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const connection = await connectChain(this.target, {
          ...this.options,
          connectTimeoutMs: Math.max(1000, Math.min(this.options.connectTimeoutMs ?? 20_000, deadline - Date.now())),
        });
        this.adopt(connection);
        const boot = await this.run('cat /proc/sys/kernel/random/boot_id', {become: 'none'}, 'reconnect');
        const bootId = boot.stdout.trim();
        if (boot.code === 0 && bootId !== '' && bootId !== options.previousBootId) {
          this.log(`${this.host}: back with boot_id ${bootId}`);
          return bootId;
        }
        lastError = new Error(`still the same boot_id ${bootId}`);
        this.dropConnection();
      } catch (error) {
        lastError = error;
        this.dropConnection();
        if (error instanceof UserError) throw error;
        if (error instanceof HostError && error.step !== 'connect' && error.step !== 'reconnect') throw error;
      }
      await sleep(Math.min(backoffDelay(attempt++, 250, 2000), Math.max(0, deadline - Date.now())));
    }
    throw new HostError(this.host, 'reconnect', `the host did not come back within ${options.timeoutMs} ms`, {
      stderr: lastError instanceof Error ? lastError.message : undefined,
      nextStep: 'check the host\'s console; it may not have booted',
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.connection && this.privateDir) {
      try {
        const dir = await this.privateDir;
        await this.run(`rm -rf -- ${shellQuote(dir)}`, {become: 'none'}, 'close');
      } catch {
        // best effort: the directory is private and lives in /tmp
      }
    }
    this.closed = true;
    this.dropConnection();
  }
}

/**
 * Connect to a host over SSH. Resolves once the host key is checked and the login succeeded (so a refused
 * key or login fails here, before any command); transient connection errors are retried with backoff.
 */
export async function connectSsh(target: SshTarget, options: SshOptions = {}): Promise<Transport> {
  const loaded = options.sshConfig ?? loadSshConfig(options.sshConfigFile, options.home);
  const transport = new SshTransport(resolveTarget(target, loaded, options), options);
  await transport.connect();
  return transport;
}

