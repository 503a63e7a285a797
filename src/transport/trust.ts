/**
 * `berth trust HOST…`: fetch each host's key (nothing but the key exchange happens), show its SHA256
 * fingerprint, and after confirmation append it to known_hosts (hashed when HashKnownHosts is yes). A key that
 * is already known is left alone; a changed or revoked key is never replaced from here.
 */
import {UserError} from '../errors.js';
import {appendKnownHost, fingerprint, keyTypeOf} from './known-hosts.js';
import {fetchHostKey} from './ssh.js';
import type {SshOptions} from './ssh.js';
import {parseJumpSpec} from './resolve-target.js';
import {ttyConfirm} from './tty-prompt.js';
import type {SshTarget} from './types.js';

export interface TrustOptions extends SshOptions {
  /** Record without asking (after the fingerprint was checked some other way). */
  yes?: boolean;
  /** Asks the question; default: the terminal. */
  confirm?: (question: string) => Promise<boolean>;
  /** Where the fingerprints and results are printed. */
  out: {write(text: string): unknown};
  port?: number;
  jump?: string;
  /** Inventory hosts by name (from `--spec`); HOST arguments found here use the inventory's connection. */
  inventory?: Map<string, SshTarget>;
}

/** A HOST argument: an inventory name, an ssh_config alias, or `[user@]host[:port]`. */
function targetFor(arg: string, options: TrustOptions): SshTarget {
  const fromInventory = options.inventory?.get(arg);
  if (fromInventory) return {...fromInventory};
  const spec = parseJumpSpec(arg);
  const target: SshTarget = {name: arg, address: spec.host};
  const port = options.port ?? spec.port;
  if (port !== undefined) target.port = port;
  if (spec.user !== undefined) target.user = spec.user;
  if (options.jump !== undefined) target.jump = options.jump;
  return target;
}

export async function trustHosts(hosts: string[], options: TrustOptions): Promise<void> {
  if (hosts.length === 0) throw new UserError('trust: name at least one HOST', 'run `berth trust --help`');
  const failures: string[] = [];
  const confirm = options.confirm ?? ttyConfirm;
  for (const arg of hosts) {
    const target = targetFor(arg, options);
    let seen;
    try {
      seen = await fetchHostKey(target, options);
    } catch (error) {
      failures.push(`${arg}: ${(error as Error).message}`);
      continue;
    }
    const t = seen.target;
    const where = `${t.name} (${t.hostname}:${t.port})`;
    options.out.write(`${where}: ${keyTypeOf(seen.key)} key ${fingerprint(seen.key)}\n`);
    switch (seen.verdict.status) {
      case 'known':
        options.out.write(`  already trusted (${seen.verdict.line.file}:${seen.verdict.line.line})\n`);
        continue;
      case 'revoked':
        failures.push(`${arg}: this key is marked @revoked (${seen.verdict.line.file}:${seen.verdict.line.line}); it will not be trusted`);
        continue;
      case 'changed': {
        const line = seen.verdict.lines[0]!;
        failures.push(
          `${arg}: known_hosts has a different ${keyTypeOf(seen.key)} key for it (${line.file}:${line.line}); ` +
            `if the host was reinstalled, remove the old line (ssh-keygen -R '${seen.lookupName}' -f ${line.file}) and run berth trust again`,
        );
        continue;
      }
      case 'unknown':
        break;
    }
    const ok = options.yes === true || (await confirm(`Trust this key for ${t.name}? Compare the fingerprint first. [y/N] `));
    if (!ok) {
      failures.push(`${arg}: not trusted (not confirmed)`);
      continue;
    }
    await appendKnownHost(seen.knownHostsFile, seen.line);
    options.out.write(`  recorded in ${seen.knownHostsFile}\n`);
  }
  if (failures.length > 0) {
    throw new UserError(`trust: ${failures.join('\n  ')}`, 'check each fingerprint with the host\'s administrator');
  }
}
