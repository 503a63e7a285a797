/**
 * `berth rollback SPEC`: flags only; the work is in src/fleet/rollback-fleet.ts.
 */
import {rollbackFleet} from '../fleet/rollback-fleet.js';
import {parseFleetArgs} from './fleet-flags.js';

export async function run(argv: string[]): Promise<number> {
  const {options, values} = parseFleetArgs('rollback', argv, {'fail-fast': {type: 'boolean'}});
  return rollbackFleet({...options, failFast: values['fail-fast'] === true});
}
