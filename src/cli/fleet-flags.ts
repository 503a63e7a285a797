/**
 * Flags shared by plan/apply/rollback/status: parsed with node:util parseArgs into FleetRunOptions.
 */
import {parseArgs, type ParseArgsConfig} from 'node:util';
import {UserError} from '../errors.js';
import type {FleetRunOptions} from '../fleet/session.js';

export const connectionFlags = {
  host: {type: 'string', multiple: true},
  json: {type: 'boolean'},
  concurrency: {type: 'string'},
  'ssh-config': {type: 'string'},
  'known-hosts': {type: 'string'},
} as const satisfies ParseArgsConfig['options'];

export function parseFleetArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  extra: O,
): {options: FleetRunOptions; values: Record<string, unknown>} {
  let parsed;
  try {
    parsed = parseArgs({args: argv, allowPositionals: true, options: {...connectionFlags, ...extra}});
  } catch (error) {
    throw new UserError(`${command}: ${(error as Error).message}`, `run \`berth ${command} --help\``);
  }
  const {values, positionals} = parsed as {values: Record<string, unknown>; positionals: string[]};
  if (positionals.length !== 1) throw new UserError(`${command}: give exactly one SPEC file`, `run \`berth ${command} --help\``);
  const options: FleetRunOptions = {specFile: positionals[0]!};
  if (values.host) options.hosts = values.host as string[];
  if (values.json) options.json = true;
  if (values['ssh-config']) options.sshConfigFile = values['ssh-config'] as string;
  if (values['known-hosts']) options.knownHostsFile = values['known-hosts'] as string;
  if (values.concurrency !== undefined) {
    const n = Number(values.concurrency);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${command}: --concurrency takes a whole number ≥ 1, not "${String(values.concurrency)}"`);
    options.concurrency = n;
  }
  return {options, values};
}
