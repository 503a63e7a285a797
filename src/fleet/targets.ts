/**
 * From a spec file to per-host work: read and validate the spec, pick the hosts (--host), render each, and
 * connect (one SSH connection per host per run, made inside the host's task so that a host that cannot be
 * reached fails alone).
 */
import {hostname, userInfo} from 'node:os';
import {UserError} from '../errors.js';
import {renderHost} from '../render/index.js';
import type {FileSet} from '../render/types.js';
import {readSpec} from '../spec/index.js';
import type {ResolvedHost} from '../spec/types.js';
import {connectSsh} from '../transport/ssh.js';
import {loadSshConfig, resolveTarget, type ResolvedTarget} from '../transport/resolve-target.js';
import {shellQuote} from '../transport/remote-command.js';
import type {PromptSecret, Transport} from '../transport/types.js';
import {localEngine, type LocalEngine} from '../host/engine.js';
import {inventoryConnections, inventorySshTarget, type InventoryConnections} from './ssh-targets.js';

export interface ConnectOptions {
  /** Like `ssh -F FILE`. */
  sshConfigFile?: string;
  /** Like `-o UserKnownHostsFile=FILE`. */
  knownHostsFile?: string;
  prompt?: PromptSecret;
}

export interface Target {
  name: string;
  host: ResolvedHost;
  fileSet: FileSet | null;
  /** The spec file, for the `berth trust --spec` hint. */
  specFile: string;
  /** Every inventory host's connection as written (jump hosts are looked up here). */
  inventory: InventoryConnections;
}

export async function loadTargets(specFile: string, only: string[] | undefined, render: boolean): Promise<Target[]> {
  const {spec, hosts} = await readSpec(specFile);
  const inventory = inventoryConnections(spec);
  let chosen = hosts;
  if (only && only.length > 0) {
    const names = new Set(hosts.map((h) => h.name));
    const unknown = only.filter((n) => !names.has(n));
    if (unknown.length > 0) {
      throw new UserError(
        `select hosts: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in ${specFile}`,
        `hosts in the spec: ${[...names].join(', ') || '(none)'}`,
      );
    }
    chosen = hosts.filter((h) => only.includes(h.name));
  }
  if (chosen.length === 0) throw new UserError(`select hosts: ${specFile} lists no hosts`, 'add hosts under inventory.hosts');
  const errors: string[] = [];
  const targets = chosen.map((host) => {
    let fileSet: FileSet | null = null;
    if (render) {
      try {
        fileSet = renderHost(host);
      } catch (error) {
        errors.push((error as Error).message + ((error as UserError).nextStep ? ` (${(error as UserError).nextStep})` : ''));
      }
    }
    return {name: host.name, host, fileSet, specFile, inventory};
  });
  if (errors.length > 0) throw new UserError(`render the spec: ${errors.join('; ')}`, 'fix the spec and run again');
  return targets;
}

/** `user@host:port`, then ` via` each jump hop: what the transcript says before connecting. */
export function describeRoute(resolved: ResolvedTarget): string {
  const at = (r: ResolvedTarget) => `${r.user}@${r.hostname}:${r.port}`;
  return [at(resolved), ...resolved.jumps.map((j) => `via ${j.name} (${at(j)})`)].join(' ');
}

/** The `berth trust` command that records an inventory host's key (jump hosts come from the same spec). */
export function trustHintFor(specFile: string, options: ConnectOptions): (name: string) => string {
  const words = ['berth', 'trust', '--spec', shellQuote(specFile)];
  if (options.sshConfigFile) words.push('--ssh-config', shellQuote(options.sshConfigFile));
  if (options.knownHostsFile) words.push('--known-hosts', shellQuote(options.knownHostsFile));
  return (name) => [...words, shellQuote(name)].join(' ');
}

export async function connectTarget(target: Target, options: ConnectOptions, log: (line: string) => void): Promise<Transport> {
  const sshConfig = loadSshConfig(options.sshConfigFile);
  const t = inventorySshTarget(target.name, target.inventory, sshConfig, trustHintFor(target.specFile, options));
  const sshOptions: Parameters<typeof connectSsh>[1] = {log, sshConfig};
  if (options.knownHostsFile) sshOptions.knownHostsFile = options.knownHostsFile;
  if (options.prompt) sshOptions.prompt = options.prompt;
  log(`connect ${target.name}: ${describeRoute(resolveTarget(t, sshConfig, sshOptions))}`);
  return connectSsh(t, sshOptions);
}

/** The engine each host wants: built here once per version asked for. Null when no engine is built and no
 * host runs containers (then the hosts' engines are left as they are). */
export function enginesFor(targets: Target[]): Map<string, LocalEngine | null> {
  const cache = new Map<string, LocalEngine | null>();
  const out = new Map<string, LocalEngine | null>();
  for (const t of targets) {
    const wanted = t.host.engine.version;
    if (!cache.has(wanted)) {
      try {
        cache.set(wanted, localEngine(wanted));
      } catch (error) {
        const needs = targets.some((x) => Object.keys(x.host.containers).length > 0);
        if (needs || !(error instanceof UserError) || !/not built/.test(error.message)) throw error;
        cache.set(wanted, null);
      }
    }
    out.set(t.name, cache.get(wanted)!);
  }
  return out;
}

export function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry
  }
  return `${user}@${hostname()}`;
}
