/**
 * Inventory hosts as transport targets, with OpenSSH's precedence: what the spec writes (inventory.defaults,
 * then the host) wins, ssh_config fills what it leaves out, the spec's defaults (port 22, user root) come
 * last; a `jump` naming an inventory host is reached with that host's own connection settings.
 */
import {defaults} from '../spec/defaults.js';
import type {Connection, Spec} from '../spec/types.js';
import {UserError} from '../errors.js';
import {sshConfigDefines, type LoadedSshConfig} from '../transport/resolve-target.js';
import type {SshTarget} from '../transport/types.js';

/** One inventory host's connection as the spec writes it: only keys present in the file. */
export interface InventoryConnection {
  /** The keys written under inventory.defaults or the host (the host's win). */
  written: Connection;
  /** JSON pointer of the `jump` value in the spec, for messages. */
  jumpKey?: string;
}

export type InventoryConnections = Map<string, InventoryConnection>;

const connectionKeys = ['address', 'port', 'user', 'identityFile', 'jump', 'become'] as const;

function pointerPart(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The written connection of every inventory host (the spec's resolve step fills in defaults; this does not). */
export function inventoryConnections(spec: Spec): InventoryConnections {
  const out: InventoryConnections = new Map();
  const inherited = spec.inventory.defaults ?? {};
  for (const [name, host] of Object.entries(spec.inventory.hosts)) {
    const written: Connection = {};
    let jumpKey: string | undefined;
    for (const key of connectionKeys) {
      const own = host[key];
      const value = own !== undefined ? own : inherited[key];
      if (value === undefined) continue;
      (written as Record<string, unknown>)[key] = value;
      if (key === 'jump') jumpKey = own !== undefined ? `/inventory/hosts/${pointerPart(name)}/jump` : '/inventory/defaults/jump';
    }
    out.set(name, jumpKey === undefined ? {written} : {written, jumpKey});
  }
  return out;
}

/** ProxyJump syntax (`user@host`, `host:port`, `[v6]`, a comma chain, `none`) rather than a bare name. */
function isProxyJumpText(jump: string): boolean {
  return /[@:[,]/.test(jump) || jump.toLowerCase() === 'none';
}

/**
 * The transport target for inventory host `name`. `hint(name)` is the next step shown when a host key is
 * unknown (each hop gets its own). Throws UserError for a jump cycle or a jump name nobody defines.
 */
export function inventorySshTarget(
  name: string,
  inventory: InventoryConnections,
  sshConfig: LoadedSshConfig,
  hint?: (name: string) => string,
  chain: string[] = [],
): SshTarget {
  const entry = inventory.get(name);
  if (!entry) throw new UserError(`connect ${name}: not an inventory host`);
  const w = entry.written;
  const target: SshTarget = {name, address: w.address ?? name, defaultUser: defaults.connection.user};
  if (w.port !== undefined) target.port = w.port;
  if (w.user !== undefined) target.user = w.user;
  if (w.identityFile !== undefined) target.identityFile = w.identityFile;
  // become follows the user: when ssh_config picks the user, the transport decides (root: nothing; else
  // sudo -n, then a password if sudo asks), as the spec's default does for a written user.
  if (w.become !== undefined) target.become = w.become;
  else if (w.user !== undefined) target.become = w.user === 'root' ? 'none' : 'sudo';
  if (hint) target.trustHint = hint(name);

  const jump = w.jump;
  const jumpKey = entry.jumpKey ?? '/inventory/defaults/jump';
  // inventory.defaults.jump naming a host: every other host goes through it, that host itself goes direct.
  if (jump === undefined || (jump === name && jumpKey === '/inventory/defaults/jump')) return target;
  const path = [...chain, name];
  if (inventory.has(jump)) {
    if (path.includes(jump)) {
      const cycle = [...path.slice(path.indexOf(jump)), jump];
      throw new UserError(
        `connect ${path[0]}: jump hosts form a cycle: ${cycle.join(' → ')} (${jumpKey})`,
        `one of these hosts must be reachable directly: remove its \`jump\``,
      );
    }
    target.jump = inventorySshTarget(jump, inventory, sshConfig, hint, path);
  } else if (isProxyJumpText(jump) || sshConfigDefines(sshConfig, jump)) {
    target.jump = jump;
  } else {
    const files = sshConfig.files.length > 0 ? sshConfig.files.join(', ') : 'no ssh_config file';
    throw new UserError(
      `connect ${path[0]}: jump host "${jump}" (${jumpKey}) is neither an inventory host nor a Host in ssh_config (${files})`,
      `at ${jumpKey}, name an inventory host, write \`user@host[:port]\`, or add \`Host ${jump}\` with a HostName to ~/.ssh/config`,
    );
  }
  return target;
}
