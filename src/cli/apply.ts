/**
 * `berth apply SPEC`: flags only; the work is in src/fleet/apply-fleet.ts.
 */
import {applyFleet} from '../fleet/apply-fleet.js';
import {parseFleetArgs} from './fleet-flags.js';

export async function run(argv: string[]): Promise<number> {
  const {options, values} = parseFleetArgs('apply', argv, {'fail-fast': {type: 'boolean'}, yes: {type: 'boolean', short: 'y'}});
  return applyFleet({...options, failFast: values['fail-fast'] === true, yes: values.yes === true});
}
