/**
 * Entry point (not a library module): started detached by startFleet with a pipe on stdin. When the pipe
 * closes — the owner stopped the fleet, exited, crashed or was killed with SIGKILL (an ava timeout, Ctrl-C) —
 * it tears the fleet down from its state file, unless the owner wrote "keep" (`npm run fleet -- up`).
 * Usage: reaper FLEET_DIR
 */
import {teardownFleet} from './state.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: reaper FLEET_DIR\n');
  process.exit(2);
}
let input = '';
process.stdin.on('data', (d: Buffer) => (input += d.toString()));
process.stdin.on('end', () => void finish());
process.stdin.on('error', () => void finish());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});

let finishing = false;
async function finish(): Promise<void> {
  if (finishing) return;
  finishing = true;
  if (input.includes('keep')) process.exit(0);
  const {errors} = await teardownFleet(dir!);
  for (const e of errors) process.stderr.write(`[testfleet reaper] ${e}\n`);
  process.exit(errors.length ? 1 : 0);
}
