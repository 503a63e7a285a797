// A process that owns a fleet and never stops it: prints the fleet's state as one JSON line, then waits to be
// killed. Used by reaper.test.ts.
import {startFleet} from '../../../src/testfleet/index.js';
import {readState} from '../../../src/testfleet/state.js';

void (async () => {
  const fleet = await startFleet({containers: Number(process.argv[2] ?? 1), aptRepo: process.argv[3] === 'apt'});
  process.stdout.write(JSON.stringify(readState(fleet.dir)) + '\n');
  setInterval(() => {}, 60_000);
})();
