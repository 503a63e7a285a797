/**
 * `berth status SPEC`: flags only; the work is in src/fleet/status-fleet.ts.
 */
import {statusFleet} from '../fleet/status-fleet.js';
import {parseFleetArgs} from './fleet-flags.js';

export async function run(argv: string[]): Promise<number> {
  const {options} = parseFleetArgs('status', argv, {});
  return statusFleet(options);
}
