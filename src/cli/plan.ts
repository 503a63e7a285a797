/**
 * `berth plan SPEC`: flags only; the work is in src/fleet/plan-fleet.ts.
 */
import {planFleet} from '../fleet/plan-fleet.js';
import {parseFleetArgs} from './fleet-flags.js';

export async function run(argv: string[]): Promise<number> {
  const {options} = parseFleetArgs('plan', argv, {});
  return planFleet(options);
}
