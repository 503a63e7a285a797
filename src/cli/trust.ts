/**
 * `berth trust HOST…`: parse flags, then trustHosts() (src/transport/trust.ts) does the work.
 */
import {parseArgs} from 'node:util';
import {UserError} from '../errors.js';
import type {SshTarget} from '../transport/types.js';
import {trustHosts} from '../transport/trust.js';
import type {TrustOptions} from '../transport/trust.js';

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        yes: {type: 'boolean', short: 'y'},
        port: {type: 'string', short: 'p'},
        jump: {type: 'string', short: 'J'},
        spec: {type: 'string'},
        'ssh-config': {type: 'string', short: 'F'},
        'known-hosts': {type: 'string'},
      },
    });
  } catch (error) {
    throw new UserError(`trust: ${(error as Error).message}`, 'run `berth trust --help`');
  }
  const {values, positionals} = parsed;
  const options: TrustOptions = {out: process.stdout};
  if (values.yes) options.yes = true;
  if (values['ssh-config']) options.sshConfigFile = values['ssh-config'];
  if (values['known-hosts']) options.knownHostsFile = values['known-hosts'];
  if (values.jump) options.jump = values.jump;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`trust: --port takes a port number, not "${values.port}"`);
    options.port = port;
  }
  if (values.spec) {
    const {readSpec} = await import('../spec/index.js');
    const {inventoryConnections, inventorySshTarget} = await import('../fleet/ssh-targets.js');
    const {loadSshConfig} = await import('../transport/resolve-target.js');
    const {spec} = await readSpec(values.spec);
    const inventory = inventoryConnections(spec);
    const sshConfig = loadSshConfig(values['ssh-config']);
    options.sshConfig = sshConfig;
    // Only the hosts asked for: a jump problem elsewhere in the inventory is not this command's business.
    options.inventory = new Map(
      positionals
        .filter((name) => inventory.has(name))
        .map((name): [string, SshTarget] => [name, inventorySshTarget(name, inventory, sshConfig)]),
    );
  }
  await trustHosts(positionals, options);
  return 0;
}
