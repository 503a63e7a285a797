/**
 * Turn an inventory SshTarget into everything needed to connect, the way OpenSSH would: ssh_config(5) through
 * the `ssh-config` package (Host patterns with `*`/`?`/`!`, first value wins, Match), our own `Include`
 * expansion, `%` tokens and `~` in paths, ProxyJump chains. Inventory fields win over the config files, as
 * OpenSSH's command line does.
 */
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import {homedir, hostname as localHostname, userInfo} from 'node:os';
import {basename, dirname, isAbsolute, join} from 'node:path';
import SSHConfig from 'ssh-config';
import {UserError} from '../errors.js';
import {knownHostsName} from './known-hosts.js';
import type {SshTarget} from './types.js';

export type StrictHostKeyChecking = 'yes' | 'ask' | 'accept-new' | 'no';

export interface ResolvedTarget {
  /** The inventory name, for messages. */
  name: string;
  /** What was matched against `Host` patterns (the address, or the name). */
  alias: string;
  /** Where to connect (ssh_config HostName, else the alias). */
  hostname: string;
  port: number;
  user: string;
  /** Key files to try, in order (inventory first, then ssh_config, else OpenSSH's default names that exist). */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** ssh-agent socket, or undefined for none. */
  agentSocket?: string;
  /** Hops to go through, first hop first; each is itself resolved. */
  jumps: ResolvedTarget[];
  /** UserKnownHostsFile (the first one is where `berth trust` writes). */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** Names this host is looked up by in known_hosts (HostKeyAlias, else HostName with `[h]:port`). */
  hostKeyAlias?: string;
  strictHostKeyChecking: StrictHostKeyChecking;
  hashKnownHosts: boolean;
  connectTimeoutMs?: number;
  serverAliveIntervalMs?: number;
  serverAliveCountMax?: number;
  become?: SshTarget['become'];
  trustHint?: string;
  /** The inventory's ProxyJump text, when it gave one (for the `berth trust --jump` hint). */
  jumpSpec?: string;
}

export interface ResolveOptions {
  /** Read only this ssh_config file (like `ssh -F FILE`); default ~/.ssh/config then /etc/ssh/ssh_config. */
  sshConfigFile?: string;
  /** Override UserKnownHostsFile (like `-o UserKnownHostsFile=FILE`). */
  knownHostsFile?: string;
  /** Override StrictHostKeyChecking. */
  strictHostKeyChecking?: StrictHostKeyChecking;
  /** ssh-agent socket (default: SSH_AUTH_SOCK); false: no agent. */
  agent?: string | false;
  /** Home directory for `~` and defaults (default: os.homedir()). */
  home?: string;
}

/** A parsed ssh_config with every Include spliced in. */
export interface LoadedSshConfig {
  config: SSHConfig;
  files: string[];
}

const maxIncludeDepth = 16;

function expandIncludeGlob(pattern: string): string[] {
  // Only the last path component may hold wildcards (e.g. /etc/ssh/ssh_config.d/*.conf), which covers the
  // way Debian and most users write Include; files come in lexical order as glob(3) returns them.
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!/[*?[]/.test(base)) return existsSync(pattern) ? [pattern] : [];
  if (!existsSync(dir)) return [];
  const re = new RegExp(
    '^' + base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
  );
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

function spliceIncludes(config: SSHConfig, relativeTo: string, home: string, depth: number, files: string[]): SSHConfig {
  const out = SSHConfig.parse('');
  for (const line of config) {
    if (line.type === SSHConfig.DIRECTIVE && /^include$/i.test(line.param)) {
      if (depth >= maxIncludeDepth) throw new UserError(`read ssh_config: Include nested deeper than ${maxIncludeDepth}`);
      const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
      for (const value of values) {
        let pattern = value.startsWith('~') ? join(home, value.slice(1)) : value;
        if (!isAbsolute(pattern)) pattern = join(relativeTo, pattern);
        for (const file of expandIncludeGlob(pattern)) {
          files.push(file);
          const included = spliceIncludes(SSHConfig.parse(readFileSync(file, 'utf8')), relativeTo, home, depth + 1, files);
          out.push(...included);
        }
      }
      continue;
    }
    if (line.type === SSHConfig.DIRECTIVE && 'config' in line) {
      // Include inside a Host/Match block: its directives belong to that block.
      const inner = spliceIncludes(line.config, relativeTo, home, depth + 1, files);
      const sectionOnly = inner.filter((l) => !(l.type === SSHConfig.DIRECTIVE && 'config' in l));
      const sections = inner.filter((l) => l.type === SSHConfig.DIRECTIVE && 'config' in l);
      const block = SSHConfig.parse('');
      block.push(...sectionOnly);
      line.config = block;
      out.push(line, ...sections);
      continue;
    }
    out.push(line);
  }
  return out;
}

/** Read ssh_config the way `ssh` does (or only `file`, like `ssh -F`). */
export function loadSshConfig(file?: string, home: string = homedir()): LoadedSshConfig {
  const files: string[] = [];
  const sources: {path: string; relativeTo: string}[] = file
    ? [{path: file, relativeTo: join(home, '.ssh')}]
    : [
        {path: join(home, '.ssh', 'config'), relativeTo: join(home, '.ssh')},
        {path: '/etc/ssh/ssh_config', relativeTo: '/etc/ssh'},
      ];
  const config = SSHConfig.parse('');
  for (const source of sources) {
    let text: string;
    try {
      text = readFileSync(source.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !file) continue;
      throw new UserError(
        `read ssh_config ${source.path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
        'check the path given with --ssh-config',
      );
    }
    files.push(source.path);
    config.push(...spliceIncludes(SSHConfig.parse(text), source.relativeTo, home, 0, files));
  }
  return {config, files};
}

interface Tokens {
  home: string;
  host: string;
  originalHost: string;
  port: number;
  remoteUser: string;
}

/** ssh_config(5) TOKENS for paths: %% %d %h %i %L %l %n %p %r %u, and a leading `~`. */
export function expandPath(value: string, tokens: Tokens): string {
  const local = localHostname();
  let out = value.replace(/%(.)/g, (whole, ch: string) => {
    switch (ch) {
      case '%':
        return '%';
      case 'd':
        return tokens.home;
      case 'h':
        return tokens.host;
      case 'i':
        return String(process.getuid?.() ?? 0);
      case 'L':
        return local.split('.')[0] ?? local;
      case 'l':
        return local;
      case 'n':
        return tokens.originalHost;
      case 'p':
        return String(tokens.port);
      case 'r':
        return tokens.remoteUser;
      case 'u':
        return localUser();
      default:
        throw new UserError(`read ssh_config: unsupported token ${whole} in "${value}"`);
    }
  });
  if (out === '~') out = tokens.home;
  else if (out.startsWith('~/')) out = join(tokens.home, out.slice(2));
  return out;
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? 'root';
  }
}

/** One ProxyJump hop: `[user@]host[:port]` or `ssh://[user@]host[:port]`, IPv6 in brackets. */
export function parseJumpSpec(spec: string): {user?: string; host: string; port?: number} {
  let rest = spec.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let host = rest;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon > 0 && rest.indexOf(':') === colon) {
      host = rest.slice(0, colon);
      port = Number(rest.slice(colon + 1));
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new UserError(`read jump host "${spec}": invalid port`, 'write it as [user@]host[:port]');
      }
    }
  }
  if (host === '') throw new UserError(`read jump host "${spec}": no host`, 'write it as [user@]host[:port]');
  const out: {user?: string; host: string; port?: number} = {host};
  if (user !== undefined) out.user = user;
  if (port !== undefined) out.port = port;
  return out;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

function yesNo(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return /^(yes|true)$/i.test(value);
}

function strictValue(value: string | undefined): StrictHostKeyChecking | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true') return 'yes';
  if (v === 'accept-new') return 'accept-new';
  if (v === 'no' || v === 'off' || v === 'false') return 'no';
  return 'ask';
}

const defaultIdentityNames = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

/**
 * Resolve a target against a loaded ssh_config. `depth` guards against ProxyJump loops.
 * `explicitJump`: a hop of an explicit chain ignores its own ssh_config ProxyJump (as `ssh -J a,b` does).
 */
export function resolveTarget(
  target: SshTarget,
  loaded: LoadedSshConfig,
  options: ResolveOptions = {},
  depth = 0,
): ResolvedTarget {
  if (depth > 8) throw new UserError(`resolve ${target.name}: ProxyJump chain longer than 8 hops (a loop?)`);
  const home = options.home ?? homedir();
  const alias = target.address ?? target.name;
  const computeUser = target.user;
  const computed = loaded.config.compute(
    computeUser !== undefined ? {Host: alias, User: computeUser} : {Host: alias},
    {ignoreCase: true, matchExec: false},
  );
  const get = (key: string) => first(computed[key]);
  const hostname = (get('hostname') ?? alias).replace(/%h/g, alias);
  const portText = get('port');
  const port = target.port ?? (portText !== undefined ? Number(portText) : 22);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`resolve ${target.name}: invalid port "${portText}" in ssh_config`);
  }
  const user = target.user ?? get('user') ?? target.defaultUser ?? localUser();
  const tokens: Tokens = {home, host: hostname, originalHost: alias, port, remoteUser: user};

  const identityFiles: string[] = [];
  if (target.identityFile) identityFiles.push(expandPath(target.identityFile, tokens));
  for (const f of list(computed['identityfile'])) {
    if (f.toLowerCase() === 'none') continue;
    const path = expandPath(f, tokens);
    if (!identityFiles.includes(path)) identityFiles.push(path);
  }
  if (identityFiles.length === 0) {
    for (const n of defaultIdentityNames) {
      const path = join(home, '.ssh', n);
      if (existsSync(path)) identityFiles.push(path);
    }
  }

  let agentSocket: string | undefined;
  const identityAgent = get('identityagent');
  if (options.agent === false) agentSocket = undefined;
  else if (typeof options.agent === 'string') agentSocket = options.agent;
  else if (identityAgent !== undefined && identityAgent.toLowerCase() === 'none') agentSocket = undefined;
  else if (identityAgent !== undefined && identityAgent !== 'SSH_AUTH_SOCK') {
    agentSocket = identityAgent.startsWith('$')
      ? process.env[identityAgent.slice(1).replace(/[{}]/g, '')]
      : expandPath(identityAgent, tokens);
  } else agentSocket = process.env['SSH_AUTH_SOCK'] || undefined;

  const userKnownHostsFiles = options.knownHostsFile
    ? [options.knownHostsFile]
    : list(computed['userknownhostsfile']).map((f) => expandPath(f, tokens));
  if (userKnownHostsFiles.length === 0) {
    userKnownHostsFiles.push(join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2'));
  }
  const globalKnownHostsFiles = list(computed['globalknownhostsfile']).map((f) => expandPath(f, tokens));
  if (globalKnownHostsFiles.length === 0) {
    globalKnownHostsFiles.push('/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2');
  }

  const proxyCommand = get('proxycommand');
  const jumpText = typeof target.jump === 'string' ? target.jump : get('proxyjump');
  let jumps: ResolvedTarget[] = [];
  if (typeof target.jump === 'object') {
    const hop = resolveTarget(target.jump, loaded, options, depth + 1);
    jumps = [...hop.jumps, {...hop, jumps: []}];
  } else if (jumpText !== undefined && jumpText.toLowerCase() !== 'none') {
    const specs = jumpText.split(',').map(parseJumpSpec);
    specs.forEach((spec, i) => {
      const hopTarget: SshTarget = {name: spec.host, address: spec.host};
      if (spec.user !== undefined) hopTarget.user = spec.user;
      if (spec.port !== undefined) hopTarget.port = spec.port;
      // Every hop after the first is reached through the one before it (ssh -J a,b), so only the first hop's
      // own ProxyJump from ssh_config counts.
      if (i > 0) hopTarget.jump = 'none';
      const hop = resolveTarget(hopTarget, loaded, options, depth + 1);
      jumps.push(...hop.jumps, {...hop, jumps: []});
    });
  } else if (proxyCommand !== undefined && proxyCommand.toLowerCase() !== 'none' && jumpText === undefined) {
    throw new UserError(
      `resolve ${target.name}: ssh_config sets ProxyCommand, which berth does not run`,
      `use ProxyJump for ${alias} in ssh_config, or set \`jump\` for this host in the inventory`,
    );
  }

  const resolved: ResolvedTarget = {
    name: target.name,
    alias,
    hostname,
    port,
    user,
    identityFiles,
    identitiesOnly: yesNo(get('identitiesonly')) ?? false,
    jumps,
    userKnownHostsFiles,
    globalKnownHostsFiles,
    strictHostKeyChecking: options.strictHostKeyChecking ?? strictValue(get('stricthostkeychecking')) ?? 'ask',
    hashKnownHosts: yesNo(get('hashknownhosts')) ?? false,
  };
  if (agentSocket) resolved.agentSocket = agentSocket;
  const hostKeyAlias = get('hostkeyalias');
  if (hostKeyAlias) resolved.hostKeyAlias = hostKeyAlias;
  const connectTimeout = get('connecttimeout');
  if (connectTimeout && Number(connectTimeout) > 0) resolved.connectTimeoutMs = Number(connectTimeout) * 1000;
  const aliveInterval = get('serveraliveinterval');
  if (aliveInterval && Number(aliveInterval) > 0) resolved.serverAliveIntervalMs = Number(aliveInterval) * 1000;
  const aliveCount = get('serveralivecountmax');
  if (aliveCount && Number(aliveCount) > 0) resolved.serverAliveCountMax = Number(aliveCount);
  if (target.become) resolved.become = target.become;
  if (target.trustHint) resolved.trustHint = target.trustHint;
  if (typeof target.jump === 'string' && target.jump.toLowerCase() !== 'none') resolved.jumpSpec = target.jump;
  return resolved;
}

/**
 * Whether ssh_config says where `name` is: a `Host` line names it literally (no wildcard), or some block
 * gives it a HostName. A bare name that only `Host *` matches would go to DNS — not what a jump host name
 * in an inventory is meant to be.
 */
export function sshConfigDefines(loaded: LoadedSshConfig, name: string): boolean {
  const wanted = name.toLowerCase();
  for (const line of loaded.config) {
    if (line.type !== SSHConfig.DIRECTIVE || !/^host$/i.test(line.param)) continue;
    const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
    if (values.some((v) => !v.startsWith('!') && !/[*?]/.test(v) && v.toLowerCase() === wanted)) return true;
  }
  const computed = loaded.config.compute({Host: name}, {ignoreCase: true, matchExec: false});
  return first(computed['hostname']) !== undefined;
}

/** The names a resolved host is looked up by in known_hosts. */
export function knownHostsNames(target: ResolvedTarget): string[] {
  // OpenSSH uses HostKeyAlias as it is, without the port (sshconnect.c check_host_key).
  if (target.hostKeyAlias) return [target.hostKeyAlias.toLowerCase()];
  return [knownHostsName(target.hostname, target.port)];
}
